"""Data-parallel training through ``torchrun`` (DistributedDataParallel).

``torchrun --nproc_per_node=N -m MedGANSynthLib train ...`` starts N processes and sets RANK, WORLD_SIZE and
LOCAL_RANK. Each process joins one process group ("nccl" on CUDA, "gloo" on the CPU), trains on its own shard of
every epoch (DistributedSampler), and DDP averages gradients so every rank keeps identical weights. Only rank 0
writes files and reports progress. Without those variables everything runs in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from MedGANSynthLib.device import resolve_device
from MedGANSynthLib.errors import InputError


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes files and reports progress."""
        return self.rank == 0


def context_from_env() -> DistributedContext:
    """Read torchrun's RANK / WORLD_SIZE / LOCAL_RANK; one process when they are absent."""
    try:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as error:
        raise InputError("RANK / WORLD_SIZE / LOCAL_RANK must be whole numbers; start with torchrun.") from error
    if world_size < 1 or not 0 <= rank < world_size:
        raise InputError(f"Inconsistent torchrun settings: RANK={rank}, WORLD_SIZE={world_size}.")
    return DistributedContext(rank, world_size, local_rank)


def device_for_rank(requested: str, context: DistributedContext) -> torch.device:
    """Resolve the device; under DDP on CUDA each process takes the GPU of its LOCAL_RANK."""
    device = resolve_device(requested)
    if context.enabled and device.type == "cuda":
        device = resolve_device(f"cuda:{context.local_rank}")
    if context.enabled and device.type == "mps":
        raise InputError("Multi-process training is not supported on Apple MPS; use --device cpu or one process.")
    return device


def init_process_group(context: DistributedContext, device: torch.device) -> None:
    """Join the group torchrun prepared (MASTER_ADDR/MASTER_PORT come from torchrun)."""
    if not context.enabled or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.get_device_module("cuda").set_device(device)
        dist.init_process_group(backend, rank=context.rank, world_size=context.world_size, device_id=device)
    else:
        dist.init_process_group(backend, rank=context.rank, world_size=context.world_size)


def destroy_process_group(context: DistributedContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank, so all start from the same weights."""
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


def wrap_module(module: nn.Module, context: DistributedContext, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``module`` under torchrun, the module itself otherwise."""
    if not context.enabled:
        return module
    if not any(parameter.requires_grad for parameter in module.parameters()):
        broadcast_module(module)
        return module
    device_ids = [device.index] if device.type == "cuda" else None
    # DDP also broadcasts rank 0's state at construction; broadcast_buffers keeps batch-norm statistics in step.
    return nn.parallel.DistributedDataParallel(module, device_ids=device_ids, broadcast_buffers=True)


def all_ranks_mean(value: float, device: torch.device, context: DistributedContext) -> float:
    """Average a number over ranks (for logging epoch losses of the whole data set)."""
    if not context.enabled:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return float(tensor.item()) / context.world_size


def barrier(context: DistributedContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.barrier()
