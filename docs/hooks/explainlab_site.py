"""The course site's MkDocs hook (``hooks:`` in mkdocs.yml): its logic is the course factory's,
``explainlab_course.site``; MkDocs loads this file by path and calls the events found here."""

from explainlab_course import site as _site

globals().update({name: value for name, value in vars(_site).items()
                  if not name.startswith("__")})
