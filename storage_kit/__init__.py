"""Object storage for agents on any S3: workspaces, forks, checkpoints, coordination."""
