"""The history of every cycle and the ledger of messages sent (stage 4 writes, 2 and 5 read)."""
