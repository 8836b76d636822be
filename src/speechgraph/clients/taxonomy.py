"""arXiv's subject taxonomy as facts: every category code with its name, the archives, the old
archives that arXiv later folded into today's categories, and the codes that are aliases of
one another.

Pure data and look-ups over it; imports only the standard library.
"""

from __future__ import annotations

import difflib

# Archive name, then one line per subject class: the part after "archive." and its name.
# Archives without subject classes (gr-qc, hep-th, ...) carry their own name instead.
_TAXONOMY = """
cs Computer Science
AI Artificial Intelligence
AR Hardware Architecture
CC Computational Complexity
CE Computational Engineering, Finance, and Science
CG Computational Geometry
CL Computation and Language
CR Cryptography and Security
CV Computer Vision and Pattern Recognition
CY Computers and Society
DB Databases
DC Distributed, Parallel, and Cluster Computing
DL Digital Libraries
DM Discrete Mathematics
DS Data Structures and Algorithms
ET Emerging Technologies
FL Formal Languages and Automata Theory
GL General Literature
GR Graphics
GT Computer Science and Game Theory
HC Human-Computer Interaction
IR Information Retrieval
IT Information Theory
LG Machine Learning
LO Logic in Computer Science
MA Multiagent Systems
MM Multimedia
MS Mathematical Software
NA Numerical Analysis
NE Neural and Evolutionary Computing
NI Networking and Internet Architecture
OH Other Computer Science
OS Operating Systems
PF Performance
PL Programming Languages
RO Robotics
SC Symbolic Computation
SD Sound
SE Software Engineering
SI Social and Information Networks
SY Systems and Control

econ Economics
EM Econometrics
GN General Economics
TH Theoretical Economics

eess Electrical Engineering and Systems Science
AS Audio and Speech Processing
IV Image and Video Processing
SP Signal Processing
SY Systems and Control

math Mathematics
AC Commutative Algebra
AG Algebraic Geometry
AP Analysis of PDEs
AT Algebraic Topology
CA Classical Analysis and ODEs
CO Combinatorics
CT Category Theory
CV Complex Variables
DG Differential Geometry
DS Dynamical Systems
FA Functional Analysis
GM General Mathematics
GN General Topology
GR Group Theory
GT Geometric Topology
HO History and Overview
IT Information Theory
KT K-Theory and Homology
LO Logic
MG Metric Geometry
MP Mathematical Physics
NA Numerical Analysis
NT Number Theory
OA Operator Algebras
OC Optimization and Control
PR Probability
QA Quantum Algebra
RA Rings and Algebras
RT Representation Theory
SG Symplectic Geometry
SP Spectral Theory
ST Statistics Theory

astro-ph Astrophysics
CO Cosmology and Nongalactic Astrophysics
EP Earth and Planetary Astrophysics
GA Astrophysics of Galaxies
HE High Energy Astrophysical Phenomena
IM Instrumentation and Methods for Astrophysics
SR Solar and Stellar Astrophysics

cond-mat Condensed Matter
dis-nn Disordered Systems and Neural Networks
mes-hall Mesoscale and Nanoscale Physics
mtrl-sci Materials Science
other Other Condensed Matter
quant-gas Quantum Gases
soft Soft Condensed Matter
stat-mech Statistical Mechanics
str-el Strongly Correlated Electrons
supr-con Superconductivity

gr-qc General Relativity and Quantum Cosmology

hep-ex High Energy Physics - Experiment

hep-lat High Energy Physics - Lattice

hep-ph High Energy Physics - Phenomenology

hep-th High Energy Physics - Theory

math-ph Mathematical Physics

nlin Nonlinear Sciences
AO Adaptation and Self-Organizing Systems
CD Chaotic Dynamics
CG Cellular Automata and Lattice Gases
PS Pattern Formation and Solitons
SI Exactly Solvable and Integrable Systems

nucl-ex Nuclear Experiment

nucl-th Nuclear Theory

physics Physics
acc-ph Accelerator Physics
ao-ph Atmospheric and Oceanic Physics
app-ph Applied Physics
atm-clus Atomic and Molecular Clusters
atom-ph Atomic Physics
bio-ph Biological Physics
chem-ph Chemical Physics
class-ph Classical Physics
comp-ph Computational Physics
data-an Data Analysis, Statistics and Probability
ed-ph Physics Education
flu-dyn Fluid Dynamics
gen-ph General Physics
geo-ph Geophysics
hist-ph History and Philosophy of Physics
ins-det Instrumentation and Detectors
med-ph Medical Physics
optics Optics
plasm-ph Plasma Physics
pop-ph Popular Physics
soc-ph Physics and Society
space-ph Space Physics

q-bio Quantitative Biology
BM Biomolecules
CB Cell Behavior
GN Genomics
MN Molecular Networks
NC Neurons and Cognition
OT Other Quantitative Biology
PE Populations and Evolution
QM Quantitative Methods
SC Subcellular Processes
TO Tissues and Organs

q-fin Quantitative Finance
CP Computational Finance
EC Economics
GN General Finance
MF Mathematical Finance
PM Portfolio Management
PR Pricing of Securities
RM Risk Management
ST Statistical Finance
TR Trading and Market Microstructure

quant-ph Quantum Physics

stat Statistics
AP Applications
CO Computation
ME Methodology
ML Machine Learning
OT Other Statistics
TH Statistics Theory
"""

# Archives of the 1990s that arXiv folded into today's categories; they live on in old ids
# (cmp-lg/9406036) and in the category lists of the papers filed under them.
SUBSUMED_ARCHIVES: dict[str, str] = {
    "acc-phys": "physics.acc-ph",
    "adap-org": "nlin.AO",
    "alg-geom": "math.AG",
    "ao-sci": "physics.ao-ph",
    "atom-ph": "physics.atom-ph",
    "bayes-an": "physics.data-an",
    "chao-dyn": "nlin.CD",
    "chem-ph": "physics.chem-ph",
    "cmp-lg": "cs.CL",
    "comp-gas": "nlin.CG",
    "dg-ga": "math.DG",
    "funct-an": "math.FA",
    "mtrl-th": "cond-mat.mtrl-sci",
    "patt-sol": "nlin.PS",
    "plasm-ph": "physics.plasm-ph",
    "q-alg": "math.QA",
    "solv-int": "nlin.SI",
    "supr-con": "cond-mat.supr-con",
}

# Pairs of codes arXiv treats as one category listed under two archives.
ALIAS_PAIRS: tuple[tuple[str, str], ...] = (
    ("cs.SY", "eess.SY"),
    ("cs.IT", "math.IT"),
    ("cs.NA", "math.NA"),
    ("math.MP", "math-ph"),
    ("math.ST", "stat.TH"),
    ("q-fin.EC", "econ.GN"),
)

# The names arXiv's OAI-PMH Dublin Core records used before a category was renamed.
FORMER_NAMES: dict[str, str] = {
    "Computer Science - Learning": "cs.LG",
}


def _read_taxonomy() -> tuple[dict[str, str], dict[str, str]]:
    """(archive -> name, category code -> name) from `_TAXONOMY`."""
    archives: dict[str, str] = {}
    categories: dict[str, str] = {}
    for block in _TAXONOMY.strip().split("\n\n"):
        head, *classes = block.strip().splitlines()
        archive, archive_name = head.split(" ", 1)
        archives[archive] = archive_name
        if not classes:
            categories[archive] = archive_name
        for line in classes:
            subject, name = line.split(" ", 1)
            categories[f"{archive}.{subject}"] = name
    return archives, categories


ARCHIVES, CATEGORIES = _read_taxonomy()
_CANONICAL = {code.lower(): code for code in [*ARCHIVES, *CATEGORIES, *SUBSUMED_ARCHIVES]}


def canonical_code(code: str) -> str | None:
    """The code as arXiv spells it (`EESS.as` -> `eess.AS`, `CS` -> `cs`), or None when
    `code` is neither an archive, an old archive, nor a category."""
    return _CANONICAL.get(code.strip().lower())


def is_archive(code: str) -> bool:
    """True for an archive name, today's (`cs`, `astro-ph`) or an old one (`cmp-lg`)."""
    return code in ARCHIVES or code in SUBSUMED_ARCHIVES


def same_category(code: str) -> set[str]:
    """`code` with every code arXiv counts as the same category: its alias under another
    archive, the old archive folded into it, or the category an old archive became."""
    codes = {code}
    for left, right in ALIAS_PAIRS:
        if code in (left, right):
            codes |= {left, right}
    if code in SUBSUMED_ARCHIVES:
        codes.add(SUBSUMED_ARCHIVES[code])
    codes |= {old for old, new in SUBSUMED_ARCHIVES.items() if new == code}
    return codes


def old_archives_within(archive: str) -> set[str]:
    """The old archives folded into categories of `archive` (`nlin` -> chao-dyn, solv-int, ...)."""
    return {old for old, new in SUBSUMED_ARCHIVES.items() if new.split(".")[0] == archive}


def closest_codes(code: str, limit: int = 3) -> list[str]:
    """Known codes spelled most like `code`, for "did you mean" hints."""
    matches = difflib.get_close_matches(code.lower(), list(_CANONICAL), n=limit, cutoff=0.6)
    return [_CANONICAL[match] for match in matches]


def code_for_subject_name(name: str) -> str | None:
    """The category code for a subject as arXiv's Dublin Core records name it
    (`Computer Science - Sound` -> `cs.SD`, `Quantum Physics` -> `quant-ph`), else None."""
    return _CODE_BY_SUBJECT_NAME.get(" ".join(name.split()))


def _subject_names() -> dict[str, str]:
    """Subject name -> code. A subject class is named "<archive name> - <class name>"; an
    archive with no classes by its own name; an archive with classes, by its own name, stands
    for the papers filed before it had classes (`Astrophysics` -> `astro-ph`)."""
    names: dict[str, str] = {}
    for code, name in CATEGORIES.items():
        archive = code.split(".")[0]
        names[name if code == archive else f"{ARCHIVES[archive]} - {name}"] = code
    for archive, name in ARCHIVES.items():
        names.setdefault(name, archive)
    names.update(FORMER_NAMES)
    return names


_CODE_BY_SUBJECT_NAME = _subject_names()
