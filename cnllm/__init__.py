"""cnllm: the small library behind the book *China's open LLMs, executed*."""
__version__ = "0.1.0"
