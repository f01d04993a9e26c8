"""SMILES tokenisation for the packaged reaction language models (rxnfp, rxnmapper).

Both models were pre-trained on reaction SMILES split by the regular expression of
Schwaller et al. ("Molecular Transformer", ACS Cent. Sci. 2019) and looked up in a
BERT-style ``vocab.txt`` (one token a line, ``[PAD]`` = 0, ``[UNK]``, ``[CLS]``, ``[SEP]``,
``[MASK]``). :class:`RegexSmilesTokenizer` reproduces that with
:class:`transformers.BertTokenizer`, whose WordPiece step is replaced by the regex, without
importing rxnfp or rxnmapper (their pinned dependencies are obsolete and ``import rxnmapper``
needs packages we do not install).

Two deliberate differences from the packages' own tokenizer classes:

- ``do_lower_case`` is always False. rxnmapper's ``SmilesTokenizer`` keeps BERT's default
  ``do_lower_case=True``; with ``transformers>=4.3x`` that lower-cases the whole SMILES
  before the regex runs (``"CCCl"`` becomes ``c c c``), which the model never saw in
  training (checked: masked-token accuracy collapses). rxnfp passes ``do_lower_case=False``.
- Characters the regex does not match are kept as one ``[UNK]`` token each instead of being
  silently dropped (``re.findall`` drops them). RDKit canonical SMILES never contain such
  characters, so this changes nothing for valid molecules.
"""

from __future__ import annotations

import re
from pathlib import Path

from transformers import BertTokenizer

#: rxnfp's pattern (``rxnfp/tokenization.py``).
RXNFP_SMILES_REGEX = r"(\%\([0-9]{3}\)|\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\||\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>>?|\*|\$|\%[0-9]{2}|[0-9])"
#: rxnmapper's pattern (``rxnmapper/smiles_utils.py``): rxnfp's without ``%(nnn)`` and ``|``.
RXNMAPPER_SMILES_REGEX = r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>>?|\*|\$|\%[0-9]{2}|[0-9])"


def regex_tokenize(text: str, regex: re.Pattern[str]) -> list[str]:
    """Split ``text`` into regex tokens; unmatched characters become single-char tokens.

    Parameters
    ----------
    text
        A (reaction) SMILES.
    regex
        Compiled token pattern, e.g. ``re.compile(RXNFP_SMILES_REGEX)``.

    Returns
    -------
    list of str
        Tokens whose concatenation is ``text``.
    """
    tokens: list[str] = []
    pos = 0
    for match in regex.finditer(text):
        if match.start() > pos:  # characters the pattern does not know
            tokens.extend(text[pos : match.start()])
        tokens.append(match.group(0))
        pos = match.end()
    tokens.extend(text[pos:])
    return tokens


class RegexSmilesTokenizer(BertTokenizer):
    """A :class:`~transformers.BertTokenizer` whose word splitting is a SMILES regex.

    Encodes a sequence as ``[CLS] tokens [SEP]``; tokens missing from the vocabulary map to
    ``[UNK]``.

    Parameters
    ----------
    vocab_file
        BERT-style vocabulary, one token a line.
    regex_pattern
        Token pattern (default: rxnfp's).
    **kwargs
        Passed to :class:`~transformers.BertTokenizer` (special tokens, ``model_max_length``).
    """

    def __init__(
        self, vocab_file: str | Path, regex_pattern: str = RXNFP_SMILES_REGEX, **kwargs
    ) -> None:
        kwargs["do_lower_case"] = False
        kwargs.setdefault("do_basic_tokenize", False)
        super().__init__(str(vocab_file), **kwargs)
        self.regex_pattern = regex_pattern
        self._regex = re.compile(regex_pattern)

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        return regex_tokenize(text, self._regex)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return "".join(tokens)
