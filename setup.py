"""Packages for setuptools; everything else is in pyproject.toml.

The data in the top-level `resources/` folder ship inside the package as
`explorer.resources` (explorer/assets.py finds them there), so an installed
wheel has its demo card and its smartcard_list.txt.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["explorer", "explorer.*"]), "explorer.resources"],
    package_dir={"explorer.resources": "resources"},
    package_data={"explorer.resources": ["*.txt", "*.md", "cards/*", "icons/*", "scripts/*"]},
)
