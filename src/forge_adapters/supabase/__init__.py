"""Supabase: the Auth adapter (GoTrue) and the seed's client wrapper.

``SupabaseAuthProvider`` implements ``forge_core.ports.AuthProvider``; ``SupabaseClient``
is the ``supabase_anon`` / ``supabase_service`` wrapper. All of them share one pooled
``httpx.AsyncClient`` (``http_client()``), which the caller owns and closes.
"""

from .client import SupabaseClient, SupabaseResponse
from .gotrue import GoTrue, http_client, to_error
from .provider import SupabaseAuthProvider
from .tokens import Claims, TokenVerifier, parse_jwks

__all__ = [
    "Claims",
    "GoTrue",
    "SupabaseAuthProvider",
    "SupabaseClient",
    "SupabaseResponse",
    "TokenVerifier",
    "http_client",
    "parse_jwks",
    "to_error",
]
