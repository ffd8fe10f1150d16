"""Quality checks that generation and scoring share: the WaveCoder discriminator (rule checks and
the LLM checklist judge), sentence embeddings of the packaged all-MiniLM-L6-v2 model and greedy
k-center selection.

A plain library below the services: it imports `core` and nothing of `generation` or `scoring`, so
the WaveCoder generator can run its generator-discriminator loop and select raw code without
importing scoring, and scoring's stages (`scoring.discriminator`, `scoring.coreset_selection`,
`scoring.decontamination`) are thin wrappers over the same code.
"""
