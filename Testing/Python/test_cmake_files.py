"""The extension's CMake files and Slicer requirements: static checks, then a real ``cmake`` configure.

The configure runs against a stand-in Slicer package whose macros have the signatures of Slicer's and CTK's
(``slicerMacroBuildScriptedModule``, ``ctkMacroCompilePythonScript``, ``slicer_add_python_unittest``, read in
Slicer/Slicer ``CMake/`` and commontk/CTK ``CMake/``): they reject unknown keywords and missing files like the
real ones and copy files to the same places, so the test sees the layout a Slicer build would produce.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]
TOP_CMAKE = REPO / "CMakeLists.txt"
MODULE_CMAKE = REPO / "MedGANSynth" / "CMakeLists.txt"
REQUIREMENTS = REPO / "Resources" / "requirements.txt"
SLICER_SHIPS = {"numpy", "simpleitk", "requests", "scipy", "pydicom"}
LIB_DIR = "lib/Slicer-5.10/qt-scripted-modules"


def _set_value(text: str, name: str) -> str:
    match = re.search(rf"set\(\s*{name}\s+\"([^\"]*)\"\s*\)", text)
    assert match, f"{name} is not set in CMakeLists.txt"
    return match.group(1)


@pytest.mark.parametrize(
    "name",
    ["EXTENSION_HOMEPAGE", "EXTENSION_CATEGORY", "EXTENSION_CONTRIBUTORS", "EXTENSION_DESCRIPTION",
     "EXTENSION_ICONURL", "EXTENSION_SCREENSHOTURLS", "EXTENSION_DEPENDS"],
)
def test_extension_metadata_is_set(name):
    assert _set_value(TOP_CMAKE.read_text(), name).strip()


def test_extension_depends_on_pytorch_and_uses_the_slicer_extension_boilerplate():
    text = TOP_CMAKE.read_text()
    assert _set_value(text, "EXTENSION_DEPENDS").split() == ["PyTorch"]
    assert _set_value(text, "EXTENSION_CATEGORY") == "Nuclear Medicine"
    assert re.search(r"project\(\s*MedGANSynth\s*\)", text)
    for line in ("find_package(Slicer REQUIRED)", "include(${Slicer_USE_FILE})", "add_subdirectory(MedGANSynth)",
                 "include(${Slicer_EXTENSION_GENERATE_CONFIG})", "include(${Slicer_EXTENSION_CPACK})"):
        assert line in text
    icon = _set_value(text, "EXTENSION_ICONURL")
    assert icon.endswith("Resources/Icons/MedGANSynth.png") and (REPO / "Resources/Icons/MedGANSynth.png").is_file()


def test_contributors_are_written_as_name_and_organization():
    """The Extensions Index and Slicer's About box list contributors as "Name (Organization)"."""
    one = r"[^,()]+ \([^()]+\)"
    listed = _set_value(TOP_CMAKE.read_text(), "EXTENSION_CONTRIBUTORS")
    assert re.fullmatch(rf"{one}(, {one})*", listed), listed
    module = re.search(r"self\.parent\.contributors = \[(.*)\]", (REPO / "MedGANSynth/MedGANSynth.py").read_text())
    assert module and all(re.fullmatch(one, name.strip().strip('"')) for name in module.group(1).split('",'))


def test_the_extensions_index_entry_matches_the_cmake_metadata():
    """MedGANSynth.json is the catalog entry to submit to Slicer's ExtensionsIndex (schema v1.0.1: only these
    keys are allowed; description, icon and contributors come from CMakeLists.txt)."""
    import json

    entry = json.loads((REPO / "MedGANSynth.json").read_text())
    allowed = {"$schema", "build_dependencies", "build_subdirectory", "category", "enabled", "scm_revision",
               "scm_type", "scm_url", "tier"}
    assert set(entry) <= allowed and {"$schema", "category", "scm_url"} <= set(entry)
    assert entry["$schema"].endswith("slicer-extension-catalog-entry-schema-v1.0.1.json#")
    text = TOP_CMAKE.read_text()
    assert entry["category"] == _set_value(text, "EXTENSION_CATEGORY")
    assert entry["build_dependencies"] == _set_value(text, "EXTENSION_DEPENDS").split() == ["PyTorch"]
    assert entry["scm_url"].removesuffix(".git") == _set_value(text, "EXTENSION_HOMEPAGE").removesuffix("#readme")


def test_module_cmake_builds_the_module_with_generic_tests_and_the_library_beside_it():
    text = MODULE_CMAKE.read_text()
    assert re.search(r"slicerMacroBuildScriptedModule\([^)]*WITH_GENERIC_TESTS", text, re.S)
    assert re.search(r"ctkMacroCompilePythonScript\([^)]*TARGET_NAME MedGANSynthLib", text, re.S)
    assert "slicer_add_python_unittest(SCRIPT ${MODULE_NAME}.py)" in text
    assert "${Slicer_INSTALL_QTSCRIPTEDMODULES_LIB_DIR}" in text


def test_requirements_leave_out_what_slicer_ships_and_match_the_library_dependencies():
    declared = {}
    for dependency in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        name = re.split(r"[<>=!~ \[;]", dependency, maxsplit=1)[0]
        declared[name.lower()] = dependency
    lines = [line.strip() for line in REQUIREMENTS.read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    names = {re.split(r"[<>=!~ \[;]", line, maxsplit=1)[0].lower() for line in requirements}
    assert names and not names & (SLICER_SHIPS | {"torch"})
    assert names <= set(declared), f"not library dependencies: {names - set(declared)}"
    # everything the library needs is either here, shipped by Slicer, or torch from the PyTorch extension
    assert set(declared) - names <= SLICER_SHIPS | {"torch"}


FAKE_SLICER_CONFIG = r"""
# Stand-in for SlicerConfig.cmake: variables and macros with the signatures of Slicer 5.10 and CTK.
set(Slicer_USE_FILE "${CMAKE_CURRENT_LIST_DIR}/UseSlicer.cmake")
set(Slicer_EXTENSION_GENERATE_CONFIG "${CMAKE_CURRENT_LIST_DIR}/GenerateConfig.cmake")
set(Slicer_EXTENSION_CPACK "${CMAKE_CURRENT_LIST_DIR}/CPack.cmake")
set(Slicer_QTSCRIPTEDMODULES_LIB_DIR "@LIB_DIR@")
set(Slicer_INSTALL_QTSCRIPTEDMODULES_LIB_DIR "@LIB_DIR@")
set(BUILD_TESTING ON)

macro(ctkMacroCompilePythonScript)
  cmake_parse_arguments(CTK "GLOBAL_TARGET;NO_INSTALL_SUBDIR" "TARGET_NAME;SOURCE_DIR;DESTINATION_DIR;INSTALL_DIR"
    "SCRIPTS;RESOURCES" ${ARGN})
  if(CTK_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ctkMacroCompilePythonScript: unknown arguments ${CTK_UNPARSED_ARGUMENTS}")
  endif()
  foreach(var TARGET_NAME SCRIPTS DESTINATION_DIR)
    if(NOT DEFINED CTK_${var})
      message(FATAL_ERROR "ctkMacroCompilePythonScript: ${var} is mandatory")
    endif()
  endforeach()
  if(NOT DEFINED CTK_SOURCE_DIR)
    set(CTK_SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  foreach(file ${CTK_SCRIPTS} ${CTK_RESOURCES})
    if(NOT EXISTS "${CTK_SOURCE_DIR}/${file}")
      message(FATAL_ERROR "ctkMacroCompilePythonScript: missing ${CTK_SOURCE_DIR}/${file}")
    endif()
    configure_file("${CTK_SOURCE_DIR}/${file}" "${CTK_DESTINATION_DIR}/${file}" COPYONLY)
  endforeach()
  file(APPEND "${CMAKE_BINARY_DIR}/calls.txt" "ctk ${CTK_TARGET_NAME} install=${CTK_INSTALL_DIR}\n")
endmacro()

macro(slicerMacroBuildScriptedModule)
  cmake_parse_arguments(MY_SLICER "WITH_GENERIC_TESTS;WITH_SUBDIR;VERBOSE" "NAME" "SCRIPTS;RESOURCES" ${ARGN})
  if(MY_SLICER_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "Unknown keywords given to slicerMacroBuildScriptedModule(): ${MY_SLICER_UNPARSED_ARGUMENTS}")
  endif()
  foreach(value ${MY_SLICER_SCRIPTS} ${MY_SLICER_RESOURCES})
    if(NOT EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${value}")
      message(FATAL_ERROR "slicerMacroBuildScriptedModule given nonexistent file '${value}'")
    endif()
  endforeach()
  ctkMacroCompilePythonScript(TARGET_NAME ${MY_SLICER_NAME} SCRIPTS "${MY_SLICER_SCRIPTS}"
    RESOURCES "${MY_SLICER_RESOURCES}" DESTINATION_DIR ${CMAKE_BINARY_DIR}/${Slicer_QTSCRIPTEDMODULES_LIB_DIR}
    INSTALL_DIR ${Slicer_INSTALL_QTSCRIPTEDMODULES_LIB_DIR} NO_INSTALL_SUBDIR)
  file(APPEND "${CMAKE_BINARY_DIR}/calls.txt" "module ${MY_SLICER_NAME} generic_tests=${MY_SLICER_WITH_GENERIC_TESTS}\n")
endmacro()

macro(slicer_add_python_unittest)
  cmake_parse_arguments(MY "" "TESTNAME_PREFIX;SCRIPT" "SLICER_ARGS" ${ARGN})
  file(APPEND "${CMAKE_BINARY_DIR}/calls.txt" "unittest ${MY_SCRIPT}\n")
endmacro()
"""

GENERATE_CONFIG = r"""
foreach(var HOMEPAGE CATEGORY CONTRIBUTORS DESCRIPTION ICONURL SCREENSHOTURLS DEPENDS)
  if("${EXTENSION_${var}}" STREQUAL "")
    message(FATAL_ERROR "EXTENSION_${var} is empty")
  endif()
endforeach()
file(APPEND "${CMAKE_BINARY_DIR}/calls.txt" "depends ${EXTENSION_DEPENDS}\n")
"""


@pytest.fixture(scope="module")
def configured_build(tmp_path_factory):
    """Configure a copy of the extension (library and resources linked) against the stand-in Slicer."""
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not installed")
    root = tmp_path_factory.mktemp("cmake")
    source, build, fake = root / "src", root / "build", root / "slicer"
    (source / "MedGANSynth").mkdir(parents=True)
    fake.mkdir()
    shutil.copy(TOP_CMAKE, source / "CMakeLists.txt")
    shutil.copytree(REPO / "MedGANSynth", source / "MedGANSynth", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (source / "MedGANSynthLib").symlink_to(REPO / "MedGANSynthLib", target_is_directory=True)
    (source / "Resources").symlink_to(REPO / "Resources", target_is_directory=True)
    (fake / "SlicerConfig.cmake").write_text(FAKE_SLICER_CONFIG.replace("@LIB_DIR@", LIB_DIR))
    (fake / "UseSlicer.cmake").write_text("")
    (fake / "GenerateConfig.cmake").write_text(GENERATE_CONFIG)
    (fake / "CPack.cmake").write_text("")
    completed = subprocess.run(
        [cmake, "-S", str(source), "-B", str(build), "-G", "Ninja" if shutil.which("ninja") else "Unix Makefiles",
         f"-DSlicer_DIR={fake}"],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return build


def test_cmake_configure_calls_the_slicer_macros_as_intended(configured_build):
    calls = (configured_build / "calls.txt").read_text().splitlines()
    assert "module MedGANSynth generic_tests=TRUE" in calls
    assert f"ctk MedGANSynthLib install={LIB_DIR}" in calls
    assert "unittest MedGANSynth.py" in calls
    assert "depends PyTorch" in calls


def test_build_tree_has_module_library_and_resources_where_slicer_looks(configured_build):
    modules = configured_build / LIB_DIR
    module_folder = REPO / "MedGANSynth"
    module_sources = sorted(p.relative_to(module_folder).as_posix() for p in module_folder.rglob("*.py"))
    assert "MedGANSynth.py" in module_sources and len(module_sources) > 1  # the entry point and its parts
    for relative in module_sources:  # each listed in MODULE_PYTHON_SCRIPTS, or Slicer would lack it
        assert (modules / relative).read_bytes() == (module_folder / relative).read_bytes(), relative
    library_sources = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "MedGANSynthLib").rglob("*.py"))
    for relative in library_sources:
        assert (modules / relative).is_file(), f"{relative} is not built beside the module"
    resources = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "Resources").rglob("*")
                       if p.is_file() and not p.name.startswith("."))
    assert "Resources/Icons/MedGANSynth.png" in resources and "Resources/requirements.txt" in resources
    for relative in resources:
        assert (modules / relative).read_bytes() == (REPO / relative).read_bytes()


LINKED_SUFFIXES = {".py", ".md", ".txt", ".json", ".toml", ".cfg", ".cmake", ".html", ".ui", ".sh", ".yml", ".yaml"}
PROJECT_LINK = re.compile(r"https?://(?:github\.com|raw\.githubusercontent\.com)/([\w.-]*medgansynth[\w.-]*/[\w.-]+)",
                          re.IGNORECASE)


def test_every_link_to_the_project_names_the_homepage_s_repository():
    """Help texts, model cards and documents link the repository of EXTENSION_HOMEPAGE, spelt as it is there.
    README.md at the top is left to its own review (rewritten separately)."""
    homepage = _set_value(TOP_CMAKE.read_text(), "EXTENSION_HOMEPAGE")
    repository = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)#readme", homepage).group(1)
    wrong = []
    for path in REPO.rglob("*"):
        parts = path.relative_to(REPO).parts
        if parts[0] in (".git", ".venv") or parts == ("README.md",) or path.suffix not in LINKED_SUFFIXES \
                or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        wrong += [f"{path.relative_to(REPO)}: {name}" for name in PROJECT_LINK.findall(text)
                  if name.removesuffix(".git") != repository]
    assert not wrong, wrong
