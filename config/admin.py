"""Admin pieces every app shares: domain errors as messages, and imports that write through the services."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from config.db import retry_on_conflict
from config.exceptions import DomainError
from config.importing import error_text


class ServiceErrorsMixin:
    """A domain error raised while saving (lost a race after the form's checks) becomes a message, not a 500.

    ``changeform_view`` owns the request's transaction, so everything the save did is rolled back;
    a deadlock runs the view again, a lock held past the lock timeout is ``DatabaseBusy``.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return retry_on_conflict(super().changeform_view)(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, f"Nothing was saved: {error_text(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ServiceImportExportMixin(ImportExportMixin):
    """CSV and XLSX import/export whose imports write through the services.

    The preview is a dry run that lists every bad row and why. Confirming checks the file
    again (the data may have moved since the preview) and writes nothing if any row is bad.
    """

    formats = [CSV, XLSX]
    import_error_display = ("message",)
    #: what the confirm step says when rows failed while writing (after the re-check passed); may use {applied}
    import_failure_note = "Nothing was imported."

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs["rollback_on_validation_errors"] = True  # a transactional import keeps all rows or none
        return kwargs

    def process_dataset(self, dataset, form, request, **kwargs):
        file_name = kwargs.get("file_name") or form.cleaned_data.get("original_file_name")
        resource = self.choose_import_resource_class(form, request)(
            **self.get_import_resource_kwargs(request, form=form)
        )
        check = resource.import_data(dataset, dry_run=True, raise_errors=False, user=request.user, file_name=file_name)
        if check.has_errors() or check.has_validation_errors():
            check.refused_before_writing = True
            return check
        return super().process_dataset(dataset, form, request, **kwargs)

    def add_success_message(self, result, request):
        totals = result.totals
        messages.success(
            request,
            f"Import finished: {totals['new']} new, {totals['update']} updated, {totals['skip']} unchanged row(s).",
        )

    def process_result(self, result, request):
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        for problem in import_problems(result):
            messages.error(request, problem)
        if getattr(result, "refused_before_writing", False):
            messages.error(request, "Nothing was imported: the data changed since the preview. Import the file again.")
        else:
            applied = result.totals["new"] + result.totals["update"]
            messages.error(request, self.import_failure_note.format(applied=applied))
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))


def import_problems(result) -> list[str]:
    """Every bad row of an import result, one line each."""
    problems = [f"File: {error.error}" for error in result.base_errors]
    for row in result.error_rows:
        problems.extend(f"Row {row.number}: {error.error}" for error in row.errors)
    for row in result.invalid_rows:
        for column, messages_ in row.error_dict.items():
            label = "" if column == "__all__" else f"{column}: "
            problems.extend(f"Row {row.number}: {label}{message}" for message in messages_)
    return problems


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records are never added, edited or deleted here (actions change them through the services)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
