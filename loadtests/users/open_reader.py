"""Zipfian point reads at a constant arrival rate (the open model)."""

from __future__ import annotations

import random

from loadtests.ids import IdSpace
from loadtests.open_model import SERVICE_SUFFIX, OpenModelUser
from loadtests.zipf import Zipf, zipf_id

NAME = "/posts/{id}" + SERVICE_SUFFIX


class OpenReader(OpenModelUser):
    def on_start(self) -> None:
        self.rng = random.Random()
        self.ids = IdSpace.from_options(self.environment.parsed_options)
        self.zipf = Zipf(self.ids.count)

    def send(self) -> tuple[str, int, int]:
        post_id = zipf_id(self.zipf, self.rng, self.ids.first_id)
        response = self.client.get(f"/posts/{post_id}", name=NAME)
        return NAME, response.status_code, len(response.content or b"")
