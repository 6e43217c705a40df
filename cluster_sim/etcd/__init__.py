"""etcd for the simulated cluster: Raft (raft.py), the MVCC store (mvcc.py) and the member (member.py)."""
from .member import REQUEST_TIMEOUT_MS, EtcdMember
from .mvcc import MVCCError, MVCCStore
from .raft import RaftNode, RaftStorage

__all__ = ["EtcdMember", "MVCCError", "MVCCStore", "RaftNode", "RaftStorage", "REQUEST_TIMEOUT_MS"]
