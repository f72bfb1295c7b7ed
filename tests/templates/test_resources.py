"""Buckets, skipped resource types, resources left out by a condition, and Transform macros."""

from __future__ import annotations

import pytest

from scones.templates import TemplateError

from .conftest import Load

TEMPLATE = """
Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions]
Parameters:
  WithArchive: {Type: String, Default: "no"}
Conditions:
  Archive: !Equals [!Ref WithArchive, "yes"]
Resources:
  Images:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Sub "scones-${AWS::AccountId}"}
  UploadsBucket:
    Type: AWS::S3::Bucket
  ArchiveBucket:
    Type: AWS::S3::Bucket
    Condition: Archive
  Role:
    Type: AWS::IAM::Role
  Policy:
    Type: AWS::IAM::ManagedPolicy
  Alarm:
    Type: AWS::CloudWatch::Alarm
  Logs:
    Type: AWS::Logs::LogGroup
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties: {EndpointName: image-classification-2023-01-18-19-42-56-366}
  Model:
    Type: AWS::SageMaker::Model
  Table:
    Type: AWS::DynamoDB::Table
  Api:
    Type: AWS::Serverless::Api
"""


def test_buckets_and_skipped_resources(load: Load) -> None:
    declarations = load(TEMPLATE)
    assert declarations.buckets == ("scones-123456789012", "uploadsbucket")
    assert (declarations.functions, declarations.state_machines) == ({}, {})
    assert declarations.notes == (
        "Transform AWS::LanguageExtensions: not applied locally",
        "ArchiveBucket (AWS::S3::Bucket): left out, its condition 'Archive' is false",
        "Role (AWS::IAM::Role): skipped, no local meaning",
        "Policy (AWS::IAM::ManagedPolicy): skipped, no local meaning",
        "Alarm (AWS::CloudWatch::Alarm): skipped, no local meaning",
        "Logs (AWS::Logs::LogGroup): skipped, no local meaning",
        "Endpoint (AWS::SageMaker::Endpoint): skipped; serve a model under the endpoint name "
        "'image-classification-2023-01-18-19-42-56-366' locally",
        "Model (AWS::SageMaker::Model): skipped; the model behind an endpoint is given to scones",
        "Table (AWS::DynamoDB::Table): skipped, scones does not run it locally",
        "Api (AWS::Serverless::Api): skipped, scones does not run it locally",
    )
    assert load(TEMPLATE, parameters={"WithArchive": "yes"}).buckets == \
        ("scones-123456789012", "uploadsbucket", "archivebucket")


def test_a_reference_to_a_resource_left_out(load: Load) -> None:
    template = TEMPLATE + "  Other:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: !Ref ArchiveBucket}\n"
    with pytest.raises(TemplateError, match="Resources.Other.Properties.BucketName: refers to 'ArchiveBucket', "
                                            "which its condition 'Archive' leaves out of the stack"):
        load(template)


def test_two_buckets_of_one_name(load: Load) -> None:
    with pytest.raises(TemplateError, match="Resources.B.Properties: a second bucket named 'a'"):
        load("Resources:\n  A: {Type: AWS::S3::Bucket}\n  B:\n    Type: AWS::S3::Bucket\n"
             "    Properties: {BucketName: a}\n")


def test_a_name_that_depends_on_itself(load: Load) -> None:
    with pytest.raises(TemplateError, match="the resource's name depends on itself: A -> A"):
        load("Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: !GetAtt A.Arn}\n")
