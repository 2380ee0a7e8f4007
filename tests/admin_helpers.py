"""Driving the Django admin as a browser does: messages, changelists, and the import and export pages."""

import csv
import io
from dataclasses import dataclass

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

CSV_FORMAT, XLSX_FORMAT = "0", "1"  # the import and export forms' format choices


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def listed(response) -> list:
    """The objects a changelist page shows."""
    return list(response.context["cl"].result_list)


def csv_file(rows: list[list], name: str = "upload.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode())


def xlsx_file(rows: list[list], name: str = "upload.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def row_errors(response) -> dict[int, dict[str, list[str]]]:
    """``{row number: {field: [messages]}}`` for the rows an import preview refused."""
    return {row.number: row.error_dict for row in response.context["result"].invalid_rows}


@dataclass(frozen=True)
class ImportExport:
    """The import and export pages of one changelist (django-import-export), posted to as their forms do."""

    changelist: str
    resource: str  # the prefix of the export form's column checkboxes: the resource class name in lower case
    columns: list[str]

    def preview(self, browser, upload: SimpleUploadedFile, file_format: str = CSV_FORMAT):
        return browser.post(
            f"{self.changelist}import/", {"resource": "0", "format": file_format, "import_file": upload}
        )

    def confirm(self, browser, previewed):
        """Confirm a preview with the form it rendered, as the "Confirm import" button does."""
        return browser.post(f"{self.changelist}process_import/", previewed.context["confirm_form"].initial, follow=True)

    def export(self, browser, file_format: str, query: str = ""):
        """Export every column; ``query`` is the changelist's query string, e.g. ``"?q=lamp"``."""
        fields = {f"{self.resource}_{column}": "on" for column in self.columns}
        return browser.post(f"{self.changelist}export/{query}", {"format": file_format, "resource": "0", **fields})
