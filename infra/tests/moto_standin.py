"""moto server with one gap of moto 5.2.5's CloudFormation closed, for the offline deploy: a stack
created or updated through a change set (as `sam deploy` does) keeps the outputs of the template
it was first made with ({} for a change set's new stack), so it has none, where CloudFormation
has the executed template's. Here a change set's outputs are evaluated when it runs; an output
that refers to a resource moto drops from the stack on update (unchanged, see test_deploy.py)
keeps its value, as in CloudFormation. Everything else is moto as installed (.local/moto)."""

import sys

from moto.cloudformation import models
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

if __name__ == "__main__":
    sys.exit(main())
