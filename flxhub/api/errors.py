"""The API's one error shape: ``{"code", "message", "details"}`` for every failure."""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from flxhub.exceptions import ApplicationError

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response({"code": exc.code, "message": exc.message, "details": exc.details}, status=exc.http_status)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unexpected error in %s", type(view).__name__ if view else "API view")
        return Response(
            {"code": "server_error", "message": "Something went wrong on our side; it has been logged.", "details": {}},
            status=500,
        )
    if isinstance(exc, drf_exceptions.ValidationError):
        code, message, details = "validation_error", "The request is not valid; see details.", response.data
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        message, details = str(detail), {}
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
            details = {"retry_after_seconds": int(exc.wait)}
    response.data = {"code": code, "message": message, "details": details}
    return response


@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Unknown paths under /api/v1/ answer in the API's error shape, not with an HTML page."""
    return JsonResponse(
        {"code": "not_found", "message": f"No API endpoint at {request.path}.", "details": {}}, status=404
    )
