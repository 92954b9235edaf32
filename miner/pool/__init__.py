"""The announcement pool client (spec section 13): config.json polling, the blkinfo chain and
the job, batched and routed submission of announcements to the pool's handlers."""

from .client import PoolClient, PoolOptions, PoolStatus
from .protocol import (
    BlockInfo,
    MasterConfig,
    PoolJob,
    PoolProtocolError,
    SubmitReply,
    check_payto,
    dedup_value,
    handler_index,
    parse_blkinfo,
    parse_master_config,
    parse_submit_reply,
)
from .upload import UploadCounters, Uploader, UploadOptions

__all__ = [
    "BlockInfo",
    "MasterConfig",
    "PoolClient",
    "PoolJob",
    "PoolOptions",
    "PoolProtocolError",
    "PoolStatus",
    "SubmitReply",
    "UploadCounters",
    "UploadOptions",
    "Uploader",
    "check_payto",
    "dedup_value",
    "handler_index",
    "parse_blkinfo",
    "parse_master_config",
    "parse_submit_reply",
]
