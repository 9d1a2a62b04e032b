"""The verbs of the edepot command, one module per area; each module has `register(verbs, common)`.

Adding a verb is one function in the right module; adding an area is one module and one line in
`edepot.cli.AREAS`.
"""
