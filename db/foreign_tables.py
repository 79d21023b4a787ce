"""Tables in our database that other components create and own: alembic autogenerate and
the models-vs-migrations test leave them alone.

* ``apscheduler_jobs``: APScheduler's job store creates it itself.
* ``procrastinate_*``: the job queue's schema (revision 0009 applies the SQL procrastinate
  ships), plus ``schedule_claims`` and ``queue_workers`` that the queue code uses with SQL.
"""

from __future__ import annotations

from typing import Any

FOREIGN_TABLES = {"apscheduler_jobs", "schedule_claims", "queue_workers"}
FOREIGN_PREFIXES = ("procrastinate_",)


def is_foreign(table_name: str) -> bool:
    return table_name in FOREIGN_TABLES or table_name.startswith(FOREIGN_PREFIXES)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """alembic's ``include_object`` hook: skip foreign tables and their indexes."""
    if type_ == "table" and name and is_foreign(name):
        return False
    table = getattr(obj, "table", None)
    return not (type_ == "index" and table is not None and is_foreign(table.name))
