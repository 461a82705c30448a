"""Location URIs: which CreateLocation* call a scheme names, and when a stored LocationUri matches."""

import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from datasync_steps.errors import shown

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync.type_defs import LocationFilterTypeDef

# The boto3 method that creates a location of each scheme.
CREATE_CALL_BY_SCHEME = {
    "s3": "create_location_s3",
    "smb": "create_location_smb",
    "nfs": "create_location_nfs",
    "efs": "create_location_efs",
    "fsxw": "create_location_fsx_windows",
    "fsxl": "create_location_fsx_lustre",
    "fsxz": "create_location_fsx_open_zfs",
    "fsxn-nfs": "create_location_fsx_ontap",
    "fsxn-smb": "create_location_fsx_ontap",
    "hdfs": "create_location_hdfs",
    "object-storage": "create_location_object_storage",
    "azure-blob": "create_location_azure_blob",
}

# Windows shares: their paths are not case-sensitive. Every other path is.
CASE_INSENSITIVE_PATH_SCHEMES = {"smb", "fsxw"}
# What a ListLocations filter value may hold (`*` and `?` are left out: they may be wildcards), and of that what has
# no case, so a stored URI that matches has it exactly where this one does.
MAX_URI_LENGTH = 4_360  # DataSync's LocationUri
FILTERABLE = frozenset(string.ascii_letters + string.digits + "_ -:.\\/")
CASELESS = FILTERABLE - frozenset(string.ascii_letters)
MAX_FILTER_VALUE = 255

_URI = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/]+)(?P<path>/.*)?$")


@dataclass(frozen=True)
class LocationUri:
    scheme: str
    host: str
    path: str

    @property
    def create_call(self) -> str:
        return CREATE_CALL_BY_SCHEME[self.scheme]

    def matches(self, stored_uri: str) -> bool:
        """Whether a LocationUri stored by DataSync names the same place as this URI."""
        try:
            return _comparison_key(parse_location_uri(stored_uri)) == _comparison_key(self)
        except ValueError:
            return False

    def list_filter(self) -> "LocationFilterTypeDef":
        """A ListLocations filter that every stored LocationUri this URI matches passes, narrowing the listing as
        far as that allows: `matches` still decides. A stored URI that matches may differ in the case of the host
        (but S3 bucket names are lower case) and of a Windows share's path, so only the other characters are
        exact: the longest run of them that ends the filter's prefix or that the stored URI contains."""
        host_exact, path_exact = self.scheme == "s3", self.scheme not in CASE_INSENSITIVE_PATH_SCHEMES
        text = self.host + self.path
        exact = "".join(
            "1" if c in CASELESS or (c in FILTERABLE and (host_exact if i < len(self.host) else path_exact)) else "0"
            for i, c in enumerate(text)
        )
        leading = len(exact) - len(exact.lstrip("1"))
        longest = max(re.finditer("1+", exact), key=lambda run: len(run[0]), default=None)
        operator: Literal["Contains", "BeginsWith"]
        if longest and len(longest[0]) > max(leading, 1):
            needle, operator = text[longest.start() : longest.end()], "Contains"
        else:
            needle, operator = f"{self.scheme}://{text[:leading]}", "BeginsWith"
        # A shorter prefix, or part of the run, still passes every match.
        return {"Name": "LocationUri", "Values": [needle[:MAX_FILTER_VALUE]], "Operator": operator}


def parse_location_uri(uri: str) -> LocationUri:
    """Split `scheme://host/path`; raise ValueError with a reason for anything else."""
    found = _URI.match(uri)
    if not found:
        raise ValueError(f"{shown(uri)} is not a location URI of the form scheme://host/path")
    scheme = found["scheme"].lower()
    if scheme not in CREATE_CALL_BY_SCHEME:
        known = ", ".join(sorted(CREATE_CALL_BY_SCHEME))
        raise ValueError(f"{shown(uri)} has the scheme {shown(scheme)}; DataSync locations use one of {known}")
    path = found["path"] or ""
    if path.endswith("/"):
        path = path[:-1]
    return LocationUri(scheme=scheme, host=found["host"].lower(), path=path)


def _comparison_key(uri: LocationUri) -> tuple[str, str, str]:
    path = uri.path.lower() if uri.scheme in CASE_INSENSITIVE_PATH_SCHEMES else uri.path
    return uri.scheme, uri.host, path
