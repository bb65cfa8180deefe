"""The answer pipeline: a question about one video's context to a typed :class:`~answer.records.Answer`.

Its modules read as the steps: :mod:`answer.question` (parse), :mod:`answer.evidence` (select),
:mod:`answer.facts` (draft from facts), :mod:`answer.pipeline` (the LLM call and the order of the
steps), :mod:`answer.checks` (the named checks); :mod:`answer.records` holds the typed records,
:mod:`answer.quoted` the quoted answer for a language the LLM does not write, :mod:`answer.stream`
the tidying of the LLM's stream. See ``docs/answering.md``.
"""
