"""The weather skill: current conditions and forecasts from Open-Meteo (no API key needed)."""
