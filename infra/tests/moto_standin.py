"""moto server with three gaps of moto 5.2.5's CloudFormation closed, for the offline deploy. One: a stack
created or updated through a change set (as `sam deploy` does) keeps the outputs of the template
it was first made with ({} for a change set's new stack), so it has none, where CloudFormation
has the executed template's. Here a change set's outputs are evaluated when it runs; an output
that refers to a resource moto drops from the stack on update (unchanged, see test_deploy.py)
keeps its value, as in CloudFormation. Two: a template `sam deploy` uploaded to S3 (both
functions' template is over CloudFormation's 51,200-byte inline limit) is read from moto's own S3
when its URL names loopback by address (moto knows only `localhost`). Three: an update of a
resource whose type moto cannot update (a DynamoDB table, among others) left the stack's map
without it, so every later `Fn::GetAtt` to it failed the whole update ("references undefined
resource"), as the wallboard's role's does to the table; the resource now keeps what it was, as
CloudFormation keeps a resource whose properties did not change. Everything else is moto as
installed (.local/moto)."""

import sys
from urllib.parse import urlparse

from moto.cloudformation import models, parsing, responses, utils
from moto.cloudformation.exceptions import ValidationError
from moto.server import main

_apply = models.ChangeSet.apply


def apply_with_outputs(self):
    before = self.stack.output_map
    _apply(self)
    outputs = models.OutputMap(self.stack.resource_map, self.template_dict, self.stack.stack_id)
    for key in outputs.outputs:
        try:
            resolved = outputs[key]
        except ValidationError:
            resolved = None
        conditional = "Condition" in self.template_dict["Outputs"][key]
        if resolved is None and not conditional and key in before._parsed_outputs:
            outputs._parsed_outputs[key] = before._parsed_outputs[key]
    self.stack.output_map = outputs


models.ChangeSet.apply = apply_with_outputs

_update = parsing.parse_and_update_resource


def update_or_keep(logical_id, resource_json, resources_map, account_id, region_name):
    updated = _update(logical_id, resource_json, resources_map, account_id, region_name)
    if updated is None:
        return resources_map._parsed_resources.get(logical_id)
    return updated


parsing.parse_and_update_resource = update_or_keep

_from_s3 = utils.get_stack_from_s3_url


def from_loopback_s3(template_url, account_id, partition):
    parts = urlparse(template_url)
    if parts.hostname in ("127.0.0.1", "::1"):
        template_url = parts._replace(netloc=f"localhost:{parts.port}").geturl()
    return _from_s3(template_url, account_id, partition)


utils.get_stack_from_s3_url = from_loopback_s3
responses.get_stack_from_s3_url = from_loopback_s3

if __name__ == "__main__":
    sys.exit(main())
