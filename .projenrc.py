"""Project definition: generates pyproject.toml, .gitignore and .gitattributes.

Regenerate after editing (scripts/env.sh puts Node 22 from node_modules on
PATH, which projen's jsii runtime needs, and the venv's python first):

    scripts/setup && source scripts/env.sh && python .projenrc.py

scripts/test fails when the committed files differ from what this produces.
"""

import os

# projen's post-synth step would create a venv and install with uv;
# scripts/setup does that with pip. Must be set before projen's jsii runtime
# starts (at import), as the Node process reads it from its environment.
os.environ["PROJEN_DISABLE_POST"] = "true"

from projen.python import (
    BuildSystem,
    PyprojectTomlProject,
    PyprojectTomlProjectDynamic,
    PythonProject,
    UvOptions,
)

NAME = "mesh-microservices"
MODULE = "mesh_microservices"
REPOSITORY = "https://github.com/mesh-microservices/mesh-microservices"
PROJEN_VERSION = "0.104.17"

# Runtime dependencies of the library (jsii comes with aws-cdk-lib). The floors are the
# oldest releases the library works with, found by trying (scripts/consumer_test.sh installs
# the wheel with exactly these and synthesizes every example): aws-cdk-lib 2.269.0 is the first
# that accepts a cdk-nag rule id holding "::" (AwsSolutions-IAM5[Resource::*]) in
# Validations.acknowledge; 2.262.0 added Stack.add_stack_dependency, 2.252.0 Acknowledgment,
# 2.236.0 ECS's canary and linear deployments. constructs 10.5.0 is what aws-cdk-lib 2.269.0
# requires.
DEPENDENCIES = [
    "aws-cdk-lib>=2.269.0,<3",
    "constructs>=10.5.0,<11",
    "typing-extensions>=4.6",  # typing.override before Python 3.12
]

# Everything a developer and CI need, installed by `pip install -e '.[dev]'`.
# An optional-dependency group rather than a PEP 735 dependency group,
# because pip 23.2 cannot install dependency groups.  The formatter, linter
# and type checker are pinned so that the gates give the same answer on every
# machine; projen is pinned so that regenerated files do not drift.
DEV_DEPENDENCIES = [
    "build>=1.2",
    "cdk-nag>=3.0.2,<4",
    "cfn-lint>=1.20",
    # API.md is compared with a fresh rendering: pin the whole renderer.
    "black==26.10.1",  # griffe2md formats long signatures with black
    "griffe2md==1.5.1",
    "griffelib==2.4.1",
    "mdformat==1.0.0",
    "hatch>=1.14",
    "hypothesis>=6.100",
    "mypy==2.4.1",
    f"projen=={PROJEN_VERSION}",
    "pytest>=8",
    "pytest-xdist>=3.6",
    "ruff==0.17.6",
    "twine>=6.1",
    # twine check renders README.md as PyPI does only with the Markdown extra; without it,
    # it passes any Markdown unread.
    "readme-renderer[md]>=46",
]

project = PythonProject(
    name=NAME,
    module_name=MODULE,
    author_name="mesh-microservices contributors",
    author_email="mesh-microservices@users.noreply.github.com",
    version="0.0.0",  # placeholder: the version lives in src/mesh_microservices/__init__.py
    description=(
        "AWS CDK constructs for ECS Fargate microservices that call each other through Cloud Map "
        "and a service mesh (AWS App Mesh or ECS Service Connect)."
    ),
    license="Apache-2.0",
    homepage=REPOSITORY,
    # uv mode is the only one in which projen writes a PEP 621 pyproject with
    # a build system of our choice; the venv is still made by scripts/setup.
    uv=True,
    uv_options=UvOptions(
        build_system=BuildSystem(
            requires=["hatchling"],
            build_backend="hatchling.build",
        ),
        project=PyprojectTomlProject(
            name=NAME,
            requires_python=">=3.11",
            dynamic=[PyprojectTomlProjectDynamic.VERSION],
            keywords=[
                "aws",
                "aws-cdk",
                "cdk",
                "constructs",
                "ecs",
                "fargate",
                "app-mesh",
                "service-connect",
                "cloud-map",
                "service-mesh",
                "envoy",
                "microservices",
            ],
            classifiers=[
                "Development Status :: 5 - Production/Stable",
                "Framework :: AWS CDK",
                "Framework :: AWS CDK :: 2",
                "Intended Audience :: Developers",
                "Operating System :: OS Independent",
                "Programming Language :: Python :: 3",
                "Programming Language :: Python :: 3 :: Only",
                "Programming Language :: Python :: 3.11",
                "Programming Language :: Python :: 3.12",
                "Programming Language :: Python :: 3.13",
                "Topic :: System :: Distributed Computing",
                "Typing :: Typed",
            ],
            urls={
                "Homepage": REPOSITORY,
                "Repository": REPOSITORY,
                "Documentation": f"{REPOSITORY}/blob/main/API.md",
            },
            optional_dependencies={"dev": DEV_DEPENDENCIES},
        ),
    ),
    deps=DEPENDENCIES,
    # No sample code, no sample tests, no pytest requirement of projen's own:
    # src/ and tests/ are written by hand and pytest is pinned in `dev`.
    sample=False,
    pytest=False,
    # The repository has its own CI entry point (.ci/run); no GitHub
    # workflows, editor folders or git-reset task.
    github=False,
    vscode=False,
    clobber=False,
)

pyproject = project.try_find_object_file("pyproject.toml")
assert pyproject is not None

# projen always writes its dev dependencies (itself, here) as a PEP 735
# group and the project version as a static field; both are replaced above
# by the `dev` extra and the dynamic version.
pyproject.add_deletion_override("dependency-groups")
pyproject.add_deletion_override("project.version")

# The single source of the version: `__version__ = "..."` in the package.
pyproject.add_override("tool.hatch.version.path", f"src/{MODULE}/__init__.py")
# src layout; hatchling ships every file of the package (py.typed included).
pyproject.add_override("tool.hatch.build.targets.wheel.packages", [f"src/{MODULE}"])
# The sdist is the source of the wheel, not of the test suite: the tests need the examples,
# the Node tooling and the dev tools of the repository, so they stay there.
pyproject.add_override(
    "tool.hatch.build.targets.sdist.include",
    [f"/src/{MODULE}", "/README.md", "/CHANGELOG.md", "/API.md", "/MIGRATION.md", "/LICENSE"],
)

pyproject.add_override(
    "tool.pytest.ini_options",
    {
        "testpaths": ["tests"],
        "addopts": ["-ra", "--strict-markers", "--strict-config"],
        "xfail_strict": True,
    },
)

pyproject.add_override(
    "tool.ruff",
    {
        "target-version": "py311",
        "line-length": 120,
        "src": ["src", "tests", "scripts"],
        "extend-exclude": ["cdk.out"],
    },
)
pyproject.add_override(
    "tool.ruff.lint",
    {
        "select": ["E", "W", "F", "I", "B", "UP", "SIM", "RUF", "D"],
        # Google-style docstrings (rendered into API.md by griffe2md).
        # Methods marked @override are documented where they are declared.
        "pydocstyle": {
            "convention": "google",
            "ignore-decorators": ["typing.override", "typing_extensions.override"],
        },
        # CDK value objects are immutable: fine as dataclass and argument defaults.
        "flake8-bugbear": {
            "extend-immutable-calls": [
                "aws_cdk.Duration.millis",
                "aws_cdk.Duration.seconds",
                "aws_cdk.Duration.minutes",
                "aws_cdk.Duration.hours",
                "aws_cdk.Duration.days",
                "aws_cdk.Size.mebibytes",
                "aws_cdk.Size.gibibytes",
            ]
        },
        # Magic methods need no docstring; constructor arguments are
        # documented in the class docstring ("Args:"), not in __init__.
        "ignore": ["D105", "D107"],
    },
)
pyproject.add_override(
    "tool.ruff.lint.per-file-ignores",
    {
        # Docstrings are required of the library's public API only.
        "tests/**": ["D"],
        "examples/**": ["D"],
        "scripts/**": ["D"],
        ".projenrc.py": ["D"],
    },
)

pyproject.add_override(
    "tool.mypy",
    {
        "strict": True,
        "python_version": "3.11",
        "files": ["src", "scripts"],
        "warn_unreachable": True,
        # Module names from the folders given (src/ is the package root), so
        # scripts/*.py need no __init__.py. Each example is an app of its own
        # and is checked from its folder (scripts/test).
        "explicit_package_bases": True,
        "mypy_path": "src",
        # Cloud assemblies may hold copied assets (e.g. Lambda code).
        "exclude": ["(^|/)cdk\\.out/"],
    },
)

# API.md rendering (scripts/gen_api_md.py): the public API is what
# mesh_microservices/__init__.py lists in __all__, with Google-style docstrings.
pyproject.add_override(
    "tool.griffe2md",
    {
        "search_paths": ["src"],
        "docstring_style": "google",
        "allow_inspection": False,
        "show_submodules": False,
        "show_if_no_docstring": True,  # enum members and constants too
        "show_signature_annotations": True,
        "members_order": "alphabetical",
        "line_length": 88,
        "summary": {
            "attributes": True,
            "functions": True,
            "classes": True,
            "modules": False,
        },
    },
)

# Ignore what the tools leave behind (several are in projen's defaults too).
project.gitignore.exclude(
    "node_modules/",
    "cdk.out/",
    ".venv/",
    ".venv-checkov/",  # checkov's own venv (scripts/setup, requirements-checkov.txt)
    "__pycache__/",
    "dist/",
    "*.egg-info",
    ".hypothesis/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
)

# Generated or locked files: collapsed in diffs on GitHub.
project.gitattributes.add_attributes("/API.md", "linguist-generated")
project.gitattributes.add_attributes("/package-lock.json", "linguist-generated")

# projen's task runner is not used (the scripts/ folder is the interface),
# but keep its task list truthful: no uv, no publishing.
for task_name in ("install", "install:ci", "publish", "publish:test", "eject"):
    project.tasks.remove_task(task_name)
project.add_task("install", exec="scripts/setup", description="Install Node and Python tooling")
project.test_task.reset("scripts/test")
project.package_task.reset("python -m build")

project.synth()
