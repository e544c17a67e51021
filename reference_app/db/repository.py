"""The posts schema and every SQL statement, each operation in as few round trips as it allows.

Statements go out through a Transport wrapped in a resilience Pipeline; each call says whether
it is idempotent, which decides whether the pipeline may retry it after an ambiguous fault.
"""

from __future__ import annotations

from collections.abc import Sequence

from reference_app.db.replica import EmbeddedReplica
from reference_app.db.transport import Result, Row, Statement, Transport
from reference_app.domain import (
    COMMENT_MAX_CHARS,
    CONTENT_MAX_CHARS,
    FIRST_VERSION,
    TITLE_MAX_CHARS,
    UPDATE_KEYS_KEPT_S,
    Comment,
    CreatePost,
    IdempotencyConflict,
    Post,
    PostChanges,
    PostDraft,
    PostPage,
    PostWithComments,
    PreconditionFailed,
    batch_fingerprint,
)
from reference_app.resilience.errors import DbError
from reference_app.resilience.pipeline import Pipeline

_NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
# Added after the first release: a database created before gets them by ALTER TABLE at start.
_VERSION_COLUMN = f"version INTEGER NOT NULL DEFAULT {FIRST_VERSION}"
_UPDATED_BY_COLUMN = "updated_by TEXT"  # the request key of the update that wrote `version`
ADDED_POST_COLUMNS = {"version": _VERSION_COLUMN, "updated_by": _UPDATED_BY_COLUMN}
_POST_COLUMN_NAMES: Statement = ("SELECT name FROM pragma_table_info('posts')", ())

# AUTOINCREMENT so a deleted id is never handed out again (caches and cursors rely on it).
SCHEMA: tuple[Statement, ...] = (
    (
        f"""CREATE TABLE IF NOT EXISTS posts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND {TITLE_MAX_CHARS}),
            content TEXT NOT NULL CHECK (length(content) <= {CONTENT_MAX_CHARS}),
            idempotency_key TEXT NOT NULL UNIQUE,
            request_fingerprint TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT {_NOW},
            {_VERSION_COLUMN},
            {_UPDATED_BY_COLUMN}
        )""",
        (),
    ),
    (
        f"""CREATE TABLE IF NOT EXISTS comments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            post_id INTEGER NOT NULL REFERENCES posts (id),
            body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND {COMMENT_MAX_CHARS}),
            created_at TEXT NOT NULL DEFAULT {_NOW}
        )""",
        (),
    ),
    ("CREATE INDEX IF NOT EXISTS comments_by_post ON comments (post_id, id)", ()),
    # A batch key and the body it was first used with; deleting its posts leaves it, so the
    # key stays bound to that body. `post_ids` (comma-separated) are the ids first answered.
    (
        """CREATE TABLE IF NOT EXISTS batches (
            key TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            post_ids TEXT
        ) WITHOUT ROWID""",
        (),
    ),
    # Every keyed update applied, so that its own retry never applies it a second time.
    (
        f"""CREATE TABLE IF NOT EXISTS post_updates (
            request_key TEXT PRIMARY KEY,
            post_id INTEGER NOT NULL,
            version INTEGER NOT NULL,
            applied_at TEXT NOT NULL DEFAULT {_NOW}
        ) WITHOUT ROWID""",
        (),
    ),
    ("CREATE INDEX IF NOT EXISTS post_updates_by_age ON post_updates (applied_at)", ()),
    # Recorded by the update's own statement (no transaction needed); records older than any
    # request can live are dropped as they go (their keys' requests are over).
    (
        f"""CREATE TRIGGER IF NOT EXISTS post_update_recorded
        AFTER UPDATE OF updated_by ON posts WHEN NEW.updated_by IS NOT NULL
        BEGIN
            DELETE FROM post_updates WHERE applied_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now',
                '-{UPDATE_KEYS_KEPT_S} seconds');
            INSERT OR IGNORE INTO post_updates (request_key, post_id, version)
                VALUES (NEW.updated_by, NEW.id, NEW.version);
        END""",
        (),
    ),
)

_POST_COLUMNS = "id, title, content, created_at, version"
_COMMENT_COLUMNS = "id, post_id, body, created_at"
# One create: inserts the post, or on a key already stored returns that row as it is (DO
# NOTHING would return no row, so the conflict branch sets a column to its own value).
_CREATE_POST = (
    "INSERT INTO posts (title, content, idempotency_key, request_fingerprint) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (idempotency_key) "
    "DO UPDATE SET request_fingerprint = request_fingerprint "
    f"RETURNING {_POST_COLUMNS}, request_fingerprint"
)
# Several creates: each insert-or-keep, then one read of every row back by key. Cheaper for
# the server than a RETURNING per create (measured: 1.09x its CPU per batched create).
_INSERT_POST = (
    "INSERT INTO posts (title, content, idempotency_key, request_fingerprint) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING"
)
# A batch: its key bound to the body it was first used with (a batch stored before the
# batches table takes the body of its posts), then its posts, each inserted only when that
# bound body is this one and no posts were stored for it yet, then the ids it stored.
_BIND_BATCH_KEY = (
    "INSERT INTO batches (key, fingerprint) VALUES (?, coalesce((SELECT request_fingerprint "
    "FROM posts WHERE idempotency_key >= ? AND idempotency_key < ? LIMIT 1), ?)) "
    "ON CONFLICT (key) DO NOTHING"
)
_INSERT_BATCH_POST = (
    "INSERT INTO posts (title, content, idempotency_key, request_fingerprint) "
    "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM batches "
    "WHERE key = ? AND fingerprint = ? AND post_ids IS NULL) "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)
_RECORD_BATCH_IDS = (
    "UPDATE batches SET post_ids = (SELECT group_concat(id) FROM posts "
    "WHERE idempotency_key >= ? AND idempotency_key < ?) WHERE key = ? AND post_ids IS NULL"
)
_BATCH = "SELECT fingerprint, post_ids FROM batches WHERE key = ?"
# A batch key's posts are stored under keys no client can send: a control character
# separates the parts, and the API refuses control characters in Idempotency-Key.
_BATCH_KEY_SEPARATOR = "\x1f"
_PAGE = f"SELECT {_POST_COLUMNS} FROM posts WHERE id > ? ORDER BY id LIMIT ?"


def _post(row: Row) -> Post:
    return Post(row["id"], row["title"], row["content"], row["created_at"], row["version"])


def batch_post_key(batch_key: str, index: int) -> str:
    """The stored key of a batch's `index`-th post; never a key a single create can have."""
    return f"{_batch_keys_from(batch_key)}{index}"


def _batch_keys_from(batch_key: str) -> str:
    return f"batch{_BATCH_KEY_SEPARATOR}{batch_key}{_BATCH_KEY_SEPARATOR}"


def _batch_key_range(batch_key: str) -> tuple[str, str]:
    """Bounds (from, below) holding every stored key of this batch key's posts and no other:
    the upper one ends in the character after the separator, and keys hold no control
    characters."""
    first = _batch_keys_from(batch_key)
    return first, first[:-1] + chr(ord(_BATCH_KEY_SEPARATOR) + 1)


def _comment(row: Row) -> Comment:
    return Comment(row["id"], row["post_id"], row["body"], row["created_at"])


def _with_comments(post: Post, comments: list[Comment]) -> PostWithComments:
    return PostWithComments(
        post.id, post.title, post.content, post.created_at, post.version, comments
    )


def _missing_post_columns(columns: Result) -> list[str]:
    present = {row["name"] for row in columns.rows}
    return [sql for name, sql in ADDED_POST_COLUMNS.items() if name not in present]


def _keyed_update(
    post_id: int, changes: PostChanges, request_key: str, if_version: frozenset[int] | None
) -> Statement:
    """Applies the changes unless this request key was applied already (its record is then
    written by the post_update_recorded trigger, in this same statement)."""
    versions = sorted(if_version or ())
    condition = ""
    if if_version is not None:
        condition = f" AND version IN ({', '.join('?' * len(versions))})" if versions else " AND 0"
    return (
        "UPDATE posts SET title = coalesce(?, title), content = coalesce(?, content), "
        "version = version + 1, updated_by = ? "
        f"WHERE id = ?{condition} AND NOT EXISTS "
        f"(SELECT 1 FROM post_updates WHERE request_key = ?) RETURNING {_POST_COLUMNS}",
        (changes.title, changes.content, request_key, post_id, *versions, request_key),
    )


class PostsRepository:
    """Posts and comments over one transport; every call but `ping` runs under `pipeline`."""

    def __init__(
        self, transport: Transport, pipeline: Pipeline, replica: EmbeddedReplica | None = None
    ) -> None:
        self._transport = transport
        self._pipeline = pipeline
        self._replica = replica  # serves get_post when set: local, as old as its last sync

    async def create_schema(self) -> None:
        """The tables, then the columns a table made by an earlier release lacks (SQLite has
        no ADD COLUMN IF NOT EXISTS); up to date, that is still one round trip."""
        *_, columns = await self._batch([*SCHEMA, _POST_COLUMN_NAMES], idempotent=True)
        missing = _missing_post_columns(columns)
        if not missing:
            return
        alters: list[Statement] = [(f"ALTER TABLE posts ADD COLUMN {c}", ()) for c in missing]
        try:
            await self._batch(alters, idempotent=True)
        except Exception:
            # Another process starting at the same moment may have added them first. Whatever
            # the error's form (the naive mode's are unconverted), judged by the outcome.
            if _missing_post_columns(await self._execute(_POST_COLUMN_NAMES, idempotent=True)):
                raise

    async def ping(self) -> None:
        """Straight to the transport: readiness reports the database, not our breaker."""
        await self._transport.ping()

    async def create_posts(self, creates: Sequence[CreatePost]) -> list[Post | IdempotencyConflict]:
        """Insert-or-keep by idempotency key, each create answered with its stored row.

        One round trip: a single create is one statement (no transaction to begin and commit
        around it), several are one batch (one transaction: all stored, or none).
        Replaying the same keys (after a lost response, or a retried batch) inserts nothing and
        returns the rows stored the first time; a key stored with another body is a conflict.
        The stored fingerprint comes back with each row, so that conflict is caught.
        """
        # Hashed once per create: stored with the row, then compared with what is stored.
        fingerprints = [create.draft.fingerprint() for create in creates]
        values = [
            (c.draft.title, c.draft.content, c.idempotency_key, fingerprint)
            for c, fingerprint in zip(creates, fingerprints, strict=True)
        ]
        if len(creates) == 1:
            result = await self._execute((_CREATE_POST, values[0]), idempotent=True)
            return [self._created(creates[0], result.rows[0], fingerprints[0])]
        keys = [create.idempotency_key for create in creates]
        select = (
            f"SELECT {_POST_COLUMNS}, idempotency_key, request_fingerprint FROM posts "
            f"WHERE idempotency_key IN ({', '.join('?' * len(keys))})",
            keys,
        )
        inserts: list[Statement] = [(_INSERT_POST, row) for row in values]
        results = await self._batch([*inserts, select], idempotent=True)
        stored = {row["idempotency_key"]: row for row in results[-1].rows}
        return [
            self._created(create, stored[create.idempotency_key], fingerprint)
            for create, fingerprint in zip(creates, fingerprints, strict=True)
        ]

    async def create_batch(
        self, batch_key: str, drafts: Sequence[PostDraft]
    ) -> list[int] | IdempotencyConflict:
        """The ids of all posts stored in one transaction and one round trip, or a conflict.

        The key covers the batch as a whole and is bound, in that transaction, to the body it
        was first used with, whatever later happens to its posts. A replay with that body
        stores nothing and returns the ids answered the first time (even of a post deleted
        since: the client was told those); one with another body (or another number of
        posts) stores nothing and is a conflict.
        """
        fingerprint = batch_fingerprint(drafts)
        keys = (batch_post_key(batch_key, i) for i in range(len(drafts)))
        stored_keys = _batch_key_range(batch_key)
        inserts: list[Statement] = [
            (_INSERT_BATCH_POST, (d.title, d.content, key, fingerprint, batch_key, fingerprint))
            for d, key in zip(drafts, keys, strict=True)
        ]
        *_, batch = await self._batch(
            [
                (_BIND_BATCH_KEY, (batch_key, *stored_keys, fingerprint)),
                *inserts,
                (_RECORD_BATCH_IDS, (*stored_keys, batch_key)),
                (_BATCH, (batch_key,)),
            ],
            idempotent=True,
        )
        [bound] = batch.rows
        if bound["fingerprint"] != fingerprint:
            return IdempotencyConflict(batch_key)
        # Inserted in order in one transaction, so the ids ascend with the posts.
        return sorted(int(post_id) for post_id in bound["post_ids"].split(","))

    @staticmethod
    def _created(create: CreatePost, row: Row, fingerprint: str) -> Post | IdempotencyConflict:
        if row["request_fingerprint"] != fingerprint:
            return IdempotencyConflict(create.idempotency_key)
        return _post(row)

    async def get_post(self, post_id: int) -> Post | None:
        statement: Statement = (f"SELECT {_POST_COLUMNS} FROM posts WHERE id = ?", (post_id,))
        if self._replica is not None:
            rows = await self._replica.query(*statement)
        else:
            rows = (await self._execute(statement, idempotent=True)).rows
        return _post(rows[0]) if rows else None

    async def get_post_with_comments(self, post_id: int) -> PostWithComments | None:
        posts, comments = await self._batch(
            [
                (f"SELECT {_POST_COLUMNS} FROM posts WHERE id = ?", (post_id,)),
                (
                    f"SELECT {_COMMENT_COLUMNS} FROM comments WHERE post_id = ? ORDER BY id",
                    [post_id],
                ),
            ],
            idempotent=True,
        )
        if not posts.rows:
            return None
        return _with_comments(_post(posts.rows[0]), [_comment(row) for row in comments.rows])

    async def list_posts(self, *, limit: int, after: int, with_comments: bool) -> PostPage:
        """Keyset page after id `after`; with comments, still one round trip (no N+1)."""
        # One extra row says whether another page follows, without a COUNT.
        page: Statement = (_PAGE, (after, limit + 1))
        if not with_comments:
            posts = [_post(row) for row in (await self._execute(page, idempotent=True)).rows]
            return PostPage(posts[:limit], posts[limit - 1].id if len(posts) > limit else None)
        comments_on_page: Statement = (
            f"SELECT {_COMMENT_COLUMNS} FROM comments WHERE post_id IN "
            "(SELECT id FROM posts WHERE id > ? ORDER BY id LIMIT ?) ORDER BY post_id, id",
            (after, limit),
        )
        post_rows, comment_rows = await self._batch([page, comments_on_page], idempotent=True)
        by_post: dict[int, list[Comment]] = {}
        for row in comment_rows.rows:
            comment = _comment(row)
            by_post.setdefault(comment.post_id, []).append(comment)
        posts = [_post(row) for row in post_rows.rows]
        items = [_with_comments(post, by_post.get(post.id, [])) for post in posts[:limit]]
        return PostPage(items, posts[limit - 1].id if len(posts) > limit else None)

    async def update_post(
        self,
        post_id: int,
        changes: PostChanges,
        *,
        request_key: str | None = None,
        if_version: frozenset[int] | None = None,
    ) -> Post | PreconditionFailed | None:
        """Apply `changes` and add one to the version; None when there is no such post.

        Without `request_key` this is the guide's plain UPDATE. With it, the key is recorded
        with the version it produced, in the same statement, and a recorded key is never
        applied again: a retry whose first attempt landed (answer lost) changes nothing, even
        after another client's update, and answers the post as it now is. `if_version`
        (If-Match) makes the update conditional: the post must still be at one of those
        versions; an update based on a version someone else has since replaced is refused.
        """
        if request_key is None:
            statement: Statement = (
                "UPDATE posts SET title = coalesce(?, title), content = coalesce(?, content), "
                f"version = version + 1 WHERE id = ? RETURNING {_POST_COLUMNS}",
                (changes.title, changes.content, post_id),
            )
        else:
            statement = _keyed_update(post_id, changes, request_key, if_version)
        # Setting fields to given values is idempotent, and a keyed update is applied once.
        result = await self._execute(statement, idempotent=True)
        if result.rows:
            return _post(result.rows[0])
        if request_key is None:
            return None
        return await self._not_applied(post_id, request_key, if_version)

    async def _not_applied(
        self, post_id: int, request_key: str, if_version: frozenset[int] | None
    ) -> Post | PreconditionFailed | None:
        """What a keyed update that changed nothing answers, by one more read: the post was
        missing, its version not one If-Match named, or this request's earlier attempt was
        applied (its answer lost). That last one answers the post as it is now; with If-Match,
        only if nobody updated it since, else it is refused like any update on an old version.
        """
        current = await self._execute(
            (
                f"SELECT {_POST_COLUMNS}, (SELECT version FROM post_updates "
                "WHERE request_key = ?) AS applied_version FROM posts WHERE id = ?",
                (request_key, post_id),
            ),
            idempotent=True,
        )
        if not current.rows:
            return None
        post = _post(current.rows[0])
        if if_version is None or post.version == current.rows[0]["applied_version"]:
            return post
        return PreconditionFailed(post.id, post.version)

    async def delete_post(self, post_id: int) -> bool:
        """Delete a post and its comments atomically; False when there was no such post.

        True also when a retry found nothing left to delete after an earlier attempt that may
        have been applied: that attempt most likely deleted it, and a DELETE is idempotent.
        """
        statements: list[Statement] = [
            ("DELETE FROM comments WHERE post_id = ?", (post_id,)),
            ("DELETE FROM posts WHERE id = ?", (post_id,)),
        ]
        maybe_applied = False

        async def attempt() -> list[Result]:
            nonlocal maybe_applied
            try:
                return await self._transport.batch(statements)
            except DbError as error:
                maybe_applied = maybe_applied or error.maybe_applied
                raise

        _, posts = await self._pipeline.run(attempt, idempotent=True)
        return posts.rows_affected > 0 or maybe_applied

    async def add_comment(self, post_id: int, body: str) -> Comment | None:
        """None when the post does not exist; checked in the same statement, so no race."""
        # Not idempotent: retried only when the fault proves the statement never left.
        result = await self._execute(
            (
                "INSERT INTO comments (post_id, body) SELECT ?, ? "
                f"WHERE EXISTS (SELECT 1 FROM posts WHERE id = ?) RETURNING {_COMMENT_COLUMNS}",
                (post_id, body, post_id),
            ),
            idempotent=False,
        )
        return _comment(result.rows[0]) if result.rows else None

    async def _execute(self, statement: Statement, *, idempotent: bool) -> Result:
        return await self._pipeline.run(
            lambda: self._transport.execute(statement), idempotent=idempotent
        )

    async def _batch(self, statements: Sequence[Statement], *, idempotent: bool) -> list[Result]:
        return await self._pipeline.run(
            lambda: self._transport.batch(statements), idempotent=idempotent
        )
