"""The music skill: a local music library, played through the mixer with speech ducking it."""
