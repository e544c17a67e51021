"""Request and response bodies; bounds come from reference_app.domain, shared with the schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reference_app.domain import (
    COMMENT_MAX_CHARS,
    CONTENT_MAX_CHARS,
    TITLE_MAX_CHARS,
    PostChanges,
    PostDraft,
)
from reference_app.settings import MAX_BATCH_SIZE

Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX_CHARS)]
Content = Annotated[str, Field(max_length=CONTENT_MAX_CHARS)]


class _Input(BaseModel):
    # A misspelt field is a client bug worth a 422, not a silently ignored value.
    model_config = ConfigDict(extra="forbid")


# Example bodies the OpenAPI schema (and so /docs) shows, so a client need not guess a field.
POST_EXAMPLE = {
    "title": "Hello, Turso",
    "content": f"The post's text, up to {CONTENT_MAX_CHARS:,} characters.",
}


class PostIn(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [POST_EXAMPLE]})

    title: Title
    content: Content

    def draft(self) -> PostDraft:
        return PostDraft(self.title, self.content)


class PostPatch(_Input):
    # "At least one field" in the schema too, so clients (and fuzzers) can know it.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "minProperties": 1,
            "examples": [{"title": "A better title"}, {"content": "New text; the title stays."}],
        },
    )

    # Absent means "keep"; an explicit null is no value the schema allows, so it is a 422.
    title: Title = None  # type: ignore[assignment]
    content: Content = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _not_empty(self) -> PostPatch:
        if self.title is None and self.content is None:
            raise ValueError("give title, content or both")
        return self

    def changes(self) -> PostChanges:
        return PostChanges(self.title, self.content)


class PostBatchIn(_Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"posts": [POST_EXAMPLE, {"title": "Second", "content": "Stored with it."}]}
            ]
        }
    )

    posts: list[PostIn] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class CommentIn(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"body": "A comment's text."}]})

    body: str = Field(min_length=1, max_length=COMMENT_MAX_CHARS)


class CommentOut(BaseModel):
    id: int
    post_id: int
    body: str
    created_at: str


class PostOut(BaseModel):
    id: int
    title: str
    content: str
    created_at: str
    version: int = Field(description="1 when created, one more with each update; its ETag")


class PostWithCommentsOut(PostOut):
    comments: list[CommentOut]


# Tried in this order: a post without a `comments` attribute fails the first and is a PostOut.
PostMaybeWithComments = PostWithCommentsOut | PostOut


class PostPageOut(BaseModel):
    items: list[PostMaybeWithComments]
    next_cursor: int | None = Field(description="`after` for the next page; null on the last")


class BatchCreatedOut(BaseModel):
    ids: list[int]


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldProblem] | None = Field(
        default=None, description="on a 422: each invalid field and what is wrong with it"
    )


class ErrorOut(BaseModel):
    error: ErrorDetail
