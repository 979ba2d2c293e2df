"""Audio in and out: sources (mic, files, PCM streams), sinks (speaker, WAV) and DSP helpers."""
