"""Users and their API tokens (admins only), and `/me` for any caller.

Security data, not domain events: these routes write their tables directly and answer 201 or
204 at once, rather than 202 with an event id.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status
from twinning.api.deps import AdminUser, CurrentUser, DbSession, require_role
from twinning.auth import service
from twinning.auth.models import User
from twinning.auth.schemas import (
    Me,
    Role,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from twinning.refusals import NotFound, problem_responses

router = APIRouter(
    tags=["users"],
    dependencies=[Depends(require_role(Role.admin))],
    responses=problem_responses(403),
)
whoami = APIRouter(tags=["users"])


async def _user_or_404(db_session: DbSession, user_id: str) -> User:
    user = await service.get_user(db_session=db_session, user_id=user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problem_responses(409),
)
async def create_user(
    data: UserCreate, db_session: DbSession, admin: AdminUser, response: Response
) -> UserRead:
    user = await service.create_user(db_session=db_session, data=data, created_by=admin.actor)
    await db_session.commit()
    response.headers["Location"] = f"/users/{user.id}"
    return UserRead.model_validate(user)


@router.get("/users", response_model=list[UserRead])
async def list_users(db_session: DbSession) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in await service.list_users(db_session=db_session)]


@router.get("/users/{user_id}", response_model=UserRead, responses=problem_responses(404))
async def get_user(user_id: str, db_session: DbSession) -> UserRead:
    return UserRead.model_validate(await _user_or_404(db_session, user_id))


@router.patch("/users/{user_id}", response_model=UserRead, responses=problem_responses(404, 409))
async def update_user(user_id: str, data: UserUpdate, db_session: DbSession) -> UserRead:
    """Change the role or deactivate; it holds for the user's tokens from the next request."""
    user = await _user_or_404(db_session, user_id)
    await service.update_user(db_session=db_session, user=user, data=data)
    await db_session.commit()
    return UserRead.model_validate(user)


@router.post(
    "/users/{user_id}/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenIssued,
    responses=problem_responses(404, 409),
)
async def issue_token(
    user_id: str, data: TokenCreate, db_session: DbSession, admin: AdminUser
) -> TokenIssued:
    """A new bearer token for the user; the answer is the only time it is shown."""
    user = await _user_or_404(db_session, user_id)
    row, token = await service.issue_token(
        db_session=db_session, user=user, label=data.label, created_by=admin.actor
    )
    await db_session.commit()
    return TokenIssued(**TokenRead.model_validate(row).model_dump(), token=token)


@router.get(
    "/users/{user_id}/tokens", response_model=list[TokenRead], responses=problem_responses(404)
)
async def list_tokens(user_id: str, db_session: DbSession) -> list[TokenRead]:
    await _user_or_404(db_session, user_id)
    tokens = await service.list_tokens(db_session=db_session, user_id=user_id)
    return [TokenRead.model_validate(t) for t in tokens]


@router.delete(
    "/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
async def revoke_token(token_id: str, db_session: DbSession) -> None:
    """Revoke a token; the next request with it gets 401."""
    token = await service.get_token(db_session=db_session, token_id=token_id)
    if token is None:
        raise NotFound("token", token_id)
    await service.revoke_token(db_session=db_session, token=token)
    await db_session.commit()


@whoami.get("/me", response_model=Me)
async def me(user: CurrentUser) -> Me:
    """Who the presented token belongs to, and with which role."""
    return Me(name=user.name, role=user.role, token_id=user.token_id)
