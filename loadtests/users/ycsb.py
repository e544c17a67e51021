"""YCSB core workloads A-F mapped onto the posts API; a mix draws one operation per task.

A 50/50 read/update, B 95/5 read/update, C read-only, D 95/5 read-latest/insert,
E 95/5 short-scan/insert, F 50/50 read/read-modify-write. Keys are zipfian, as in YCSB.
"""

from __future__ import annotations

from typing import ClassVar

from locust import task

from loadtests.mix import Mix, Op
from loadtests.users.base import PostsUser
from loadtests.zipf import latest_id

MAX_SCAN_LENGTH = 20  # YCSB E draws scan lengths uniformly up to a maximum


class YcsbUser(PostsUser):
    abstract = True
    mix: ClassVar[Mix]

    def on_start(self) -> None:
        super().on_start()
        self.newest_id = self.ids.last_id  # D reads near the newest post it knows of

    @task
    def step(self) -> None:
        match self.mix.choose(self.rng):
            case Op.READ:
                self.read()
            case Op.UPDATE:
                self.update_post(self.hot_id())
            case Op.INSERT:
                self.newest_id = max(self.newest_id, self.create_post() or 0)
            case Op.SCAN:
                self.scan(self.hot_id() - 1, self.rng.randint(1, MAX_SCAN_LENGTH))
            case Op.READ_MODIFY_WRITE:
                post_id = self.hot_id()
                post = self.read_post(post_id)
                if post is not None:
                    self.update_post(post_id, f"{post['content']}!"[-200:])

    def read(self) -> None:
        self.read_post(self.hot_id())


class YcsbA(YcsbUser):
    mix = Mix({Op.READ: 0.5, Op.UPDATE: 0.5})


class YcsbB(YcsbUser):
    mix = Mix({Op.READ: 0.95, Op.UPDATE: 0.05})


class YcsbC(YcsbUser):
    mix = Mix({Op.READ: 1.0})


class YcsbD(YcsbUser):
    mix = Mix({Op.READ: 0.95, Op.INSERT: 0.05})

    def read(self) -> None:
        self.read_post(latest_id(self.zipf, self.rng, self.newest_id, self.ids.first_id))


class YcsbE(YcsbUser):
    mix = Mix({Op.SCAN: 0.95, Op.INSERT: 0.05})


class YcsbF(YcsbUser):
    mix = Mix({Op.READ: 0.5, Op.READ_MODIFY_WRITE: 0.5})
