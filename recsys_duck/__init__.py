"""recsys-duck: a MovieLens recommender that lives inside a DuckDB database.

The SQL files under ``sql/`` define every table, view and macro; this package loads
data, runs that SQL and returns pandas DataFrames.
"""

from recsys_duck.errors import (
    DataError,
    DownloadError,
    NotBuiltError,
    NotFoundError,
    RecsysError,
)
from recsys_duck.guard import ReadLimits, readonly_engine
from recsys_duck.metrics import (
    catalog_coverage,
    hit_rate_at_k,
    mae,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    precision_at_k,
    ranking_metrics_by_user,
    recall_at_k,
    rmse,
)
from recsys_duck.params import BuildParams
from recsys_duck.recommender import BuildReport, Recommender
from recsys_duck.storage import readonly_connect_args

__all__ = [
    "BuildParams",
    "BuildReport",
    "DataError",
    "DownloadError",
    "NotBuiltError",
    "NotFoundError",
    "ReadLimits",
    "Recommender",
    "RecsysError",
    "catalog_coverage",
    "hit_rate_at_k",
    "mae",
    "map_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "novelty",
    "precision_at_k",
    "ranking_metrics_by_user",
    "recall_at_k",
    "readonly_connect_args",
    "readonly_engine",
    "rmse",
]
__version__ = "0.1.0"
