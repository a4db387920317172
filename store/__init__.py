"""What the API and the worker share: settings, the Redis key layout, the stored job and sweep,
the codec, ids, Lua scripts, limits and the task queue's configuration."""
