"""The peer of scopegate's load bench: the same protected route on FastAPI +
PyJWT, with the security layer of Airflow 3.3's Task Execution API
(``airflow/api_fastapi/execution_api/security.py``, apache/airflow#62582):

1. ``JWTBearer``, an ``HTTPBearer`` subclass, does crypto and registered
   claims only, and caches the verified token on the ASGI request scope;
2. ``require_auth``, a plain function used as
   ``Security(require_auth, scopes=[...])``, enforces the token type and
   ``ti:self``;
3. ``ExecutionAPIRoute`` precomputes each route's allowed token types from
   its ``token:*`` scopes, and routes declare their scopes.

Configuration comes from the environment: ``PEER_JWT_SECRET`` (HS512, as
Airflow's default), ``PEER_JWT_AUDIENCE``, and ``PEER_VARIABLES`` (a JSON
object of variables to serve). Run with
``uvicorn app:app --workers 1`` from this directory.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any
from uuid import UUID

import jwt
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Security, params, status
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer, SecurityScopes
from pydantic import BaseModel

SECRET = os.environ["PEER_JWT_SECRET"]
AUDIENCE = os.environ.get("PEER_JWT_AUDIENCE", "urn:airflow.apache.org:task")
ALGORITHMS = ["HS512"]
LEEWAY = 10
TOKEN_TYPES = frozenset({"execution", "workload"})
VARIABLES: dict[str, Any] = json.loads(os.environ.get("PEER_VARIABLES", "{}"))


class TIToken(BaseModel):
    """A verified token: its subject (a task instance id) and claims."""

    id: UUID
    claims: dict[str, Any]


class JWTBearer(HTTPBearer):
    """Layer 1: signature and registered claims only, never route scopes.

    The result is cached on the ASGI scope, so however many dependencies ask
    for the token, it is verified once per request.
    """

    def __init__(self) -> None:
        super().__init__(auto_error=False)

    async def __call__(self, request: Request) -> TIToken:  # type: ignore[override]
        if cached := request.scope.get("ti_token"):
            return cached
        creds = await super().__call__(request)
        if not creds:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Missing auth token")
        try:
            claims = jwt.decode(
                creds.credentials,
                SECRET,
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "aud", "sub"]},
            )
            if claims.setdefault("scope", "execution") not in TOKEN_TYPES:
                raise ValueError(f"unknown token type {claims['scope']!r}")
            token = TIToken(id=claims["sub"], claims=claims)
        except Exception as err:
            # Airflow answers 403 here; the token itself is never logged.
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"Invalid auth token: {err}")
        request.scope["ti_token"] = token
        return token


_jwt_bearer = JWTBearer()
CurrentTIToken = Annotated[TIToken, Depends(_jwt_bearer)]


def require_auth(security_scopes: SecurityScopes, request: Request, token: CurrentTIToken) -> TIToken:
    """Layer 2: the token's type against the route, then its self-scopes."""
    route = request.scope.get("route")
    allowed = getattr(route, "allowed_token_types", frozenset({"execution"}))
    token_type = token.claims["scope"]
    if token_type not in allowed:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"Token type '{token_type}' not allowed for this endpoint. "
            f"Allowed types: {', '.join(sorted(allowed))}",
        )
    for scope in security_scopes.scopes:
        if scope == "ti:self" and str(token.id) != request.path_params.get("task_instance_id"):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Token subject does not match task instance ID")
    return token


class ExecutionAPIRoute(APIRoute):
    """Layer 3: the allowed token types of a route, computed once from the
    ``token:*`` scopes of every ``Security(require_auth)`` on it (its own and
    those merged in by ``include_router``); execution only when there is none."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = {
            scope.removeprefix("token:")
            for dep in self.dependencies
            if isinstance(dep, params.Security) and dep.dependency is require_auth
            for scope in (dep.scopes or [])
            if scope.startswith("token:")
        }
        self.allowed_token_types = frozenset(types or {"execution"})


health_router = APIRouter()


@health_router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


variables_router = APIRouter(prefix="/variables", route_class=ExecutionAPIRoute)


@variables_router.get(
    "/{variable_key}",
    dependencies=[Security(require_auth, scopes=["token:execution"])],
)
async def get_variable(variable_key: str, token: CurrentTIToken) -> dict[str, Any]:
    if variable_key not in VARIABLES:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail={"reason": "not_found", "message": f"Variable with key '{variable_key}' not found"},
        )
    return {"key": variable_key, "value": VARIABLES[variable_key]}


authenticated_router = APIRouter(dependencies=[Security(require_auth)], route_class=ExecutionAPIRoute)
authenticated_router.include_router(variables_router)

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
app.include_router(health_router, prefix="/execution")
app.include_router(authenticated_router, prefix="/execution")
