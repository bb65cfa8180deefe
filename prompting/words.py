"""The one stopword list of the context side: words that carry no content for matching.

Retrieval (:mod:`prompting.retrieve`), citation (:mod:`prompting.cite`) and the
cleanup guard (:mod:`prompting.cleanup`) all skip these words; each keeps its
own tokenizer. (The bench's answer scorer keeps its own list on purpose: the
yardstick does not share parts with what it measures.)
"""
from __future__ import annotations

STOPWORDS = frozenset("""a an the and or of to in on at by for with from is are was were be been being do does did
what which who whom whose when where why how this that these those it its there their they them he she
his her we you your i me my our us as into than then so not no yes any some all video show shows shown
happen happens happened please tell about can could would should second seconds time context says said
within during""".split())
