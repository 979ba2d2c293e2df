"""``assistant bench``: measures every stage of real turns, ours against a sequential baseline."""
