"""The store in portable SQL, assembled from its tables; `sqlite` and `postgres` add the
dialects."""

from __future__ import annotations

from exportcast.service.store.destinations import DestinationTables
from exportcast.service.store.hierarchies import HierarchyTables
from exportcast.service.store.series import SeriesTables
from exportcast.service.store.versions import VersionTables


class SqlStore(SeriesTables, DestinationTables, VersionTables, HierarchyTables):
    """Every table of the store over one set of connections (`transactions.SqlBase`)."""
