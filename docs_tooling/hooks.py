"""MkDocs hooks (mkdocs.yml `hooks:`): the site's scripts come from the npm registry's packages in node_modules
(`make install`, pinned in package.json), so that the built site draws its diagrams and searches with no network."""

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# Where each script lands in the site (mkdocs.yml names these paths) and the package file it is.
VENDORED_SCRIPTS = {
    # Material draws a ```mermaid block with the global `mermaid` when a page has one, else fetches it from a CDN.
    "assets/javascripts/mermaid.min.js": "mermaid/dist/mermaid.min.js",
    # The offline plugin's search runs its worker in an iframe on file:// pages; the plugin fetches this shim from a
    # CDN unless extra.polyfills names one.
    "assets/javascripts/iframe-worker-shim.js": "iframe-worker/shim/index.js",
}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for site_path, package_path in VENDORED_SCRIPTS.items():
        source = NODE_MODULES / package_path
        if not source.is_file():
            raise PluginError(f"{source} is missing: `make install` installs the docs site's scripts from npm")
        files.append(File.generated(config, site_path, abs_src_path=str(source)))
    return files
