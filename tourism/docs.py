"""Swagger UI pages (``/api/docs/``, ``/api/octo/docs/``)."""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI under the Content-Security-Policy: no inline script (the split
    view serves it as ``?script``), the page's style with the nonce."""

    template_name = "api_docs.html"
