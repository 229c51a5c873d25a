"""Systems of devices and links (configs/systems/*.yaml)."""

import os

import yaml

import _tessel


class System:
    """A system file: devices (an architecture file) and the levels of links between them."""

    def __init__(self, path):
        self._path = os.path.abspath(path)

    @classmethod
    def load(cls, path):
        return cls(path)

    @staticmethod
    def describes(path):
        """Whether the YAML file at `path` is a system (it lists levels of links)."""
        if not str(path).endswith((".yaml", ".yml")):
            return False
        with open(path, encoding="utf-8") as file:
            content = yaml.safe_load(file)
        return isinstance(content, dict) and "levels" in content

    def path(self):
        return self._path

    def device_path(self):
        """The architecture file of the system's devices."""
        return os.path.normpath(os.path.join(os.path.dirname(self._path), self.to_dict()["device"]))

    def figures(self):
        """One device's clock, peak MACs a cycle per format and DRAM bytes a cycle."""
        return _tessel.arch_figures(self.device_path())

    def to_dict(self):
        with open(self._path, encoding="utf-8") as file:
            return yaml.safe_load(file)

    def __repr__(self):
        return f"System({self._path!r})"
