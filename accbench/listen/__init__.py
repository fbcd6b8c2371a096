"""Listening studies: a pairwise human evaluation of a run's systems, and the metrics checked against people.

- :mod:`accbench.listen.design`: the balanced trial design (pairs, songs, sides, attention checks).
- :mod:`accbench.listen.render`: the clips (excerpt, input + accompaniment, loudness match, compression).
- :mod:`accbench.listen.site`: the study's self-contained web page.
- :mod:`accbench.listen.build`: ``listen build``, a study folder from a run folder.
- :mod:`accbench.listen.answers`: reading and checking answers.
- :mod:`accbench.listen.stats`: win rates, Bradley-Terry, the seed paper's tests, metric agreement.
- :mod:`accbench.listen.analyze`: ``listen analyze``, the Markdown, CSV and figure of a study's answers.
- :mod:`accbench.listen.serve`: ``listen serve``, the study on 127.0.0.1 collecting answers.
"""
