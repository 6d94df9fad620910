"""The base of every API view: token auth, rate limit before the kind check, rate headers, Idempotency-Key on POST."""

from rest_framework.settings import api_settings
from rest_framework.views import APIView

from . import schema  # noqa: F401  (registers the token security scheme with drf-spectacular)
from .idempotency import idempotent_call
from .permissions import HasTokenKind


class ApiView(APIView):
    """Subclasses name ``allowed_token_kinds`` and implement one handler per HTTP method."""

    allowed_token_kinds: tuple[str, ...] | dict[str, tuple[str, ...]] = ()
    permission_classes = [HasTokenKind]

    def perform_content_negotiation(self, request, force=False):
        """JSON is the only renderer: a client that accepts anything or JSON gets it without parsing Accept.

        Anything else (another media type, ``?format=``) goes through DRF's negotiation, which answers 406.
        """
        renderers = self.get_renderers()
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (
            len(renderers) == 1
            and accept in ("*/*", renderers[0].media_type)
            and not self.format_kwarg
            and api_settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().perform_content_negotiation(request, force)

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        self.perform_authentication(request)
        # Before the kind check, so a call with the wrong kind of token still counts and still shows its bucket.
        self.check_throttles(request)
        self.check_permissions(request)

    def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            handler = getattr(self, request.method.lower(), None)
            if handler is None or request.method.lower() not in self.http_method_names:
                handler = self.http_method_not_allowed
            if request.method == "POST":
                response = idempotent_call(request, lambda: handler(request, *args, **kwargs))
            else:
                response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(request, "rate_limit", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        return response

    @property
    def actor_label(self) -> str:
        return f"api:{self.request.auth.prefix}"
