"""Seed posts and comments through the app's API, so readers have something to read.

`python -m loadtests.seed --app-url http://app:8000` does it from a shell (compose.yaml's
`seed` service) and prints the ids as Locust's `--first-id/--last-id/--commented-posts`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx

from loadtests.ids import IdSpace

SEED_BATCH = 500  # the app's largest batch: one round trip per 500 posts
COMMENTS_PER_POST = 3
SEED_CONCURRENCY = 16


def seed(app_url: str, posts: int, commented: int) -> IdSpace:
    """Posts through POST /posts/batch straight to the app, then comments on the first ones."""
    return asyncio.run(_seed(app_url, posts, commented))


async def _seed(app_url: str, posts: int, commented: int) -> IdSpace:
    ids: list[int] = []
    async with httpx.AsyncClient(base_url=app_url, timeout=30.0) as client:
        for start in range(0, posts, SEED_BATCH):
            count = min(SEED_BATCH, posts - start)
            body = {
                "posts": [
                    {"title": f"seed-{start + i}", "content": "s" * 200} for i in range(count)
                ]
            }
            response = await client.post("/posts/batch", json=body)
            response.raise_for_status()
            ids += response.json()["ids"]
        slots = asyncio.Semaphore(SEED_CONCURRENCY)

        async def comment(post_id: int, n: int) -> None:
            async with slots:
                response = await client.post(f"/posts/{post_id}/comments", json={"body": f"c{n}"})
                response.raise_for_status()

        targets = sorted(ids)[:commented]
        await asyncio.gather(*(comment(p, n) for p in targets for n in range(COMMENTS_PER_POST)))
    return IdSpace(min(ids), max(ids), len(targets))


def locust_flags(ids: IdSpace) -> str:
    """The locustfile's options that name the seeded posts."""
    return (
        f"--first-id {ids.first_id} --last-id {ids.last_id} --commented-posts {ids.commented_posts}"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtests.seed", description=__doc__)
    parser.add_argument("--app-url", required=True, help="the app itself, e.g. http://app:8000")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--commented-posts", type=int, default=200)
    args = parser.parse_args(argv)
    if not args.posts > 0 or not 0 <= args.commented_posts <= args.posts:
        parser.error("need --posts > 0 and 0 <= --commented-posts <= --posts")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        ids = seed(args.app_url, args.posts, args.commented_posts)
    except httpx.HTTPError as error:
        print(f"seed: {args.app_url}: {error}", file=sys.stderr)
        return 1
    print(locust_flags(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
