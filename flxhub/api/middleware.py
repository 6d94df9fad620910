"""The browser-session middleware, passed over on the supplier API (/api/v1/), which never uses what it sets up.

API requests authenticate by token (never a session or a Django user), every API view is CSRF-exempt, and
nothing there reads messages. So for paths under ``API_PATH_PREFIX`` these subclasses hand
the request on untouched; every other path gets the middleware as Django ships it. The middleware that shape
an API answer (security headers, Content-Length, X-Frame-Options, static files) stay as they are.
"""

from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.middleware import csrf

API_PATH_PREFIX = "/api/v1/"


class _PassOverApi:
    def __call__(self, request):
        if request.path_info.startswith(API_PATH_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_PassOverApi, sessions_middleware.SessionMiddleware):
    pass


class CsrfViewMiddleware(_PassOverApi, csrf.CsrfViewMiddleware):
    pass


class AuthenticationMiddleware(_PassOverApi, auth_middleware.AuthenticationMiddleware):
    pass


class MessageMiddleware(_PassOverApi, messages_middleware.MessageMiddleware):
    pass
