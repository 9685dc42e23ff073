"""In-memory implementations of every port: real classes with state, obeying each
port's contract, for tests and for embedding the core without a database."""

from forge_adapters.memory.auth_store import MemoryAuthStore
from forge_adapters.memory.event_log import MemoryEventLog
from forge_adapters.memory.inference import MemoryInferenceBackend
from forge_adapters.memory.leases import MemoryLeases, memory_job_leases, memory_run_leases
from forge_adapters.memory.objectstore import MemoryObjectStore
from forge_adapters.memory.rate_limiter import MemoryRateLimiter
from forge_adapters.memory.repository import MemoryRepository
from forge_adapters.memory.run_store import MemoryRunStore

__all__ = [
    "MemoryAuthStore",
    "MemoryEventLog",
    "MemoryInferenceBackend",
    "MemoryLeases",
    "MemoryObjectStore",
    "MemoryRateLimiter",
    "MemoryRepository",
    "MemoryRunStore",
    "memory_job_leases",
    "memory_run_leases",
]
