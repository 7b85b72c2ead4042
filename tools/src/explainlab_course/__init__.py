"""ExplainLab's course factory: what builds and checks the course, never what a learner installs.

The offline twins (``zoo``), the lesson runner and its claim checks (``lessons``, ``claims``),
the site's hook logic (``site``), the platform checks (``platforms``), the GPU check
(``gpucheck``, ``gpucarry``) and the classroom mirror (``mirror``). It imports ``explainlab``,
the learner's package; ``explainlab`` never imports it.
"""
