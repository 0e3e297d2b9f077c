"""A part (one physical piece) travelling through the line."""

from __future__ import annotations


class Part:
    __slots__ = ("id", "product", "route", "step", "released", "t_queue")

    def __init__(self, pid: int, product: str, route: tuple, released: float):
        self.id = pid
        self.product = product
        self.route = route  # tuple of Station objects
        self.step = 0  # index into route of the station the part is at
        self.released = released
        self.t_queue = released  # time the part joined its current station's queue
