"""``scones data``: stage CIFAR-100 classes into the store, and describe a staged dataset."""

from __future__ import annotations

import click

from scones.cli.context import AppContext, not_empty, pass_app


@click.group()
def data() -> None:
    """Stage CIFAR-100 classes as PNG files and SageMaker .lst manifests."""


@data.command("stage")
@click.option("--source", metavar="SOURCE", default=None, callback=not_empty,
              help="The official URL, a local cifar-100-python .tar.gz, or a folder in SageMaker layout "
                   "(train/, test/, train.lst, test.lst). Default: $SCONES_CIFAR_SOURCE, else the official URL.")
@click.option("--classes", default="bicycle,motorcycle", show_default=True,
              help="Comma-separated CIFAR-100 fine names, or coarse names (e.g. vehicles_1) for all their "
                   "fine classes; labels are 0..k-1 in this order.")
@click.option("--dest", metavar="URI", default=None, callback=not_empty,
              help="Where to stage: a folder, file:// or s3:// URI. Default: the local store's 'dataset' prefix.")
@click.option("--md5", metavar="HEX", default=None,
              help="Expected MD5 of the archive (the official URL's checksum is known already).")
@click.option("--force", is_flag=True, help="Stage again even when the destination already holds this dataset.")
@pass_app
def stage(app: AppContext, source: str | None, classes: str, dest: str | None, md5: str | None,
          force: bool) -> None:
    """Stage CIFAR-100 classes: train/ and test/ PNGs, train.lst, test.lst and dataset.json, all or nothing."""
    from scones.data.stage import format_summary, parse_classes, stage_dataset

    result = stage_dataset(source or app.settings.cifar_source,
                           dest or app.default_uri("dataset"),
                           classes=parse_classes(classes), cache_dir=app.settings.cache_dir, expected_md5=md5,
                           force=force, show_progress=app.settings.progress)
    click.echo(format_summary(result))


@data.command("info")
@click.argument("uri", required=False, callback=not_empty)
@pass_app
def info(app: AppContext, uri: str | None) -> None:
    """Check a staged dataset and print its classes and counts (default: the local store's 'dataset')."""
    from scones.data.dataset import describe, load_dataset_info
    from scones.store import open_store

    click.echo(describe(load_dataset_info(open_store(uri or app.default_uri("dataset")))))
