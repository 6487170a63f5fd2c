"""Services that write: workspaces, checkpoints, forks, coordination, sweeping."""
