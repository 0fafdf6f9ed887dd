"""Spreadsheets of the uploads context: the inspector and readers of uploaded books (python-calamine for
xlsx, the csv module for csv), and the openpyxl writer of the upload template and error reports."""
