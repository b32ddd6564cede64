"""The simulated company: daily raw exports in the shape of raw/contract.yml plus an answer key.

from raw.generate import generate_company
generate_company(Path("data/exports"), Path("data/answer_key"), customers=50_000, days=730, seed=7)
"""

from .company import GenerationSummary, generate_company
from .config import SimulationConfig

__all__ = ["GenerationSummary", "SimulationConfig", "generate_company"]
