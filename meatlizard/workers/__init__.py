"""Remote inference: the Redis Streams link between web processes and client-bot workers."""
