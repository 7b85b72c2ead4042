"""The ``scale`` profile: the lessons run at the real models' size and dtype.

``standins`` builds a full-size stand-in of every role from ``models.json`` (the real models'
published configurations); ``check`` executes every lesson on them and measures each cell;
``requirements`` turns the measurements into what each lesson page says it needs.
"""
