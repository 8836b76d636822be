"""Finding papers: the sentence encoder (`encoder`, `onnx`), the FAISS index (`index`), keyword
terms (`lexical`), keeping both in step with the catalogue (`indexing`), hybrid retrieval with
filters and explanations (`hybrid`) and its evaluation (`evaluate`).

May import the ground modules, `lists`, `clients`, `catalogue` and `knowledge`.
"""
