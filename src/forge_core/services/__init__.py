"""Use cases. Each class serves one kind of record for a given owner."""

from forge_core.services.content import AssetContent, Content
from forge_core.services.events import ChatEvents, jsonable
from forge_core.services.job_repair import Repairs
from forge_core.services.job_runner import JobRunner
from forge_core.services.job_worker import JobWorker
from forge_core.services.production import AssetMetas, Assets, Jobs
from forge_core.services.records import MAX_OFFSET, MAX_PAGE, Page, Records
from forge_core.services.run_supervisor import RunSupervisor
from forge_core.services.runs import Runs
from forge_core.services.variants import Variants
from forge_core.services.workspace import Chats, Messages, Sessions

__all__ = [
    "MAX_OFFSET",
    "MAX_PAGE",
    "AssetContent",
    "AssetMetas",
    "Assets",
    "ChatEvents",
    "Chats",
    "Content",
    "JobRunner",
    "JobWorker",
    "Jobs",
    "Messages",
    "Page",
    "Records",
    "Repairs",
    "RunSupervisor",
    "Runs",
    "Sessions",
    "Variants",
    "jsonable",
]
